import assert from 'node:assert/strict';
import { test } from 'node:test';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { NONCE_LENGTH, openXChaCha, sealXChaCha, TAG_LENGTH } from '../../src/keys/aead.ts';
import { openSecret, sealSecret } from '../../src/keys/container.ts';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const key = fc.uint8Array({ minLength: 32, maxLength: 32 });

test('what sealXChaCha writes, noble xchacha20poly1305 opens, and what noble writes, openXChaCha opens', () => {
  fc.assert(
    fc.property(key, bytes(4096), bytes(300), (k, plain, aad) => {
      const blob = sealXChaCha(k, plain, aad);
      assert.equal(blob.length, NONCE_LENGTH + plain.length + TAG_LENGTH);
      const nonce = blob.subarray(0, NONCE_LENGTH);
      // Byte for byte the same construction: noble under the same nonce writes the same blob.
      assert.deepEqual(xchacha20poly1305(k, nonce, aad).encrypt(plain), blob.subarray(NONCE_LENGTH));
      assert.deepEqual(xchacha20poly1305(k, nonce, aad).decrypt(blob.subarray(NONCE_LENGTH)), plain);
      const theirs = new Uint8Array(NONCE_LENGTH + plain.length + TAG_LENGTH);
      const theirNonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
      theirs.set(theirNonce);
      theirs.set(xchacha20poly1305(k, theirNonce, aad).encrypt(plain), NONCE_LENGTH);
      assert.deepEqual(openXChaCha(k, theirs, aad), plain);
    }),
    { numRuns: 300 },
  );
});

test('the draft-irtf-cfrg-xchacha-03 A.3.1 vector', () => {
  // Appendix A.3.1 of draft-irtf-cfrg-xchacha-03 (the AEAD test vector), opened from its ciphertext.
  const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
  const k = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const nonce = hex('404142434445464748494a4b4c4d4e4f5051525354555657');
  const aad = hex('50515253c0c1c2c3c4c5c6c7');
  const plain = Buffer.from(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const ciphertext = hex(`bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
    731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
    2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
    21f9664c97637da9768812f615c68b13b52e`);
  const tag = hex('c0875924c1c7987947deafd8780acf49');
  const blob = new Uint8Array([...nonce, ...ciphertext, ...tag]);
  assert.deepEqual(openXChaCha(k, blob, aad), new Uint8Array(plain));
});

test('a blob altered anywhere, moved to other associated data, too short or under another key opens to null', () => {
  fc.assert(
    fc.property(
      key,
      bytes(512),
      bytes(64),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (k, plain, aad, at, flip) => {
        const blob = sealXChaCha(k, plain, aad);
        const altered = Uint8Array.from(blob);
        altered[at % altered.length]! ^= flip;
        assert.equal(openXChaCha(k, altered, aad), null);
        assert.equal(openXChaCha(k, blob, new Uint8Array([...aad, 0])), null);
        assert.equal(openXChaCha(k, blob.subarray(0, NONCE_LENGTH + TAG_LENGTH - 1), aad), null);
        const other = Uint8Array.from(k);
        other[0]! ^= 1;
        assert.equal(openXChaCha(other, blob, aad), null);
      },
    ),
    { numRuns: 300 },
  );
});

test('two seals of the same message differ (a fresh nonce each time)', () => {
  const k = new Uint8Array(32).fill(7);
  const a = sealXChaCha(k, new Uint8Array(10), new Uint8Array());
  const b = sealXChaCha(k, new Uint8Array(10), new Uint8Array());
  assert.notDeepEqual(a.subarray(0, NONCE_LENGTH), b.subarray(0, NONCE_LENGTH));
});

test('a keystore secret sealed by noble whole (as every keystore was before the containers used aead.ts) opens, and noble opens what sealSecret writes', () => {
  fc.assert(
    fc.property(key, fc.uint8Array({ minLength: 32, maxLength: 64 }), (kek, secret) => {
      const aad = new TextEncoder().encode('warden/secret/v1/vlt_a/sec_b');
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
      const before = new Uint8Array([...nonce, ...xchacha20poly1305(kek, nonce, aad).encrypt(secret)]);
      assert.deepEqual(openSecret(kek, 'vlt_a', 'sec_b', before), secret);
      const now = sealSecret(kek, 'vlt_a', 'sec_b', secret);
      assert.deepEqual(
        xchacha20poly1305(kek, now.subarray(0, NONCE_LENGTH), aad).decrypt(now.subarray(NONCE_LENGTH)),
        secret,
      );
      // Bound to its vault and id: the same blob under another id does not open.
      assert.throws(() => openSecret(kek, 'vlt_a', 'sec_c', before), { code: 'KEYSTORE_CORRUPT' });
    }),
    { numRuns: 100 },
  );
});
