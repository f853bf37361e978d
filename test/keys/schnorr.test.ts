import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { verifySchnorr } from 'tiny-secp256k1';
import { signSchnorrDigest, signSchnorrWithAux } from '../../src/keys/schnorr.ts';

/** BIP-340's own vectors (test/keys/vectors/PROVENANCE.txt). */
interface Bip340Vector {
  index: number;
  secret_key: string | null;
  public_key: string;
  aux_rand: string | null;
  message: string;
  signature: string;
  verification_result: boolean;
  comment: string | null;
}
const vectors = (
  JSON.parse(readFileSync(new URL('./vectors/bip340-test-vectors.json', import.meta.url), 'utf8')) as {
    vectors: Bip340Vector[];
  }
).vectors;

function libsecp256k1Verifies(message: Uint8Array, publicKey: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verifySchnorr(message, publicKey, signature);
  } catch {
    return false; // a public key that is not on the curve: tiny-secp256k1 throws instead of answering
  }
}

describe('BIP-340 Schnorr signing through libsecp256k1', () => {
  const signing = vectors.filter((v) => v.secret_key !== null && v.message.length === 64);
  it('has the signing vectors with 32-byte messages (the digests Warden signs)', () => {
    assert.deepEqual(
      signing.map((v) => v.index),
      [0, 1, 2, 3],
    );
  });

  for (const v of signing) {
    it(`vector ${v.index}: libsecp256k1 and noble both give the expected signature`, () => {
      const sk = hexToBytes(v.secret_key!);
      const msg = hexToBytes(v.message);
      const aux = hexToBytes(v.aux_rand!);
      const expected = v.signature.toLowerCase();
      assert.equal(bytesToHex(signSchnorrWithAux(msg, sk, aux)), expected);
      assert.equal(bytesToHex(schnorr.sign(msg, sk, aux)), expected);
    });
  }

  for (const v of vectors) {
    it(`vector ${v.index}: libsecp256k1 and noble agree that it ${v.verification_result ? 'verifies' : 'fails'}${v.comment ? ` (${v.comment})` : ''}`, () => {
      const msg = hexToBytes(v.message);
      const pk = hexToBytes(v.public_key);
      const sig = hexToBytes(v.signature);
      assert.equal(schnorr.verify(sig, msg, pk), v.verification_result);
      // libsecp256k1 through tiny-secp256k1 takes 32-byte messages only.
      if (msg.length === 32) assert.equal(libsecp256k1Verifies(msg, pk, sig), v.verification_result);
    });
  }

  it('every signature with fresh randomness verifies with noble, and two signatures of one digest differ', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k)),
        (digest, sk) => {
          const a = signSchnorrDigest(digest, sk);
          const b = signSchnorrDigest(digest, sk);
          const pk = schnorr.getPublicKey(sk);
          assert.equal(schnorr.verify(a, digest, pk), true);
          assert.equal(schnorr.verify(b, digest, pk), true);
          assert.notEqual(bytesToHex(a), bytesToHex(b));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a digest that is not 32 bytes and randomness that is not 32 bytes', () => {
    const sk = hexToBytes(signing[0]!.secret_key!);
    assert.throws(() => signSchnorrDigest(new Uint8Array(31), sk), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => signSchnorrWithAux(new Uint8Array(32), sk, new Uint8Array(16)), {
      code: 'INVALID_ARGUMENT',
    });
  });

  it('refuses an invalid secret key (zero, or not below the group order)', () => {
    const digest = new Uint8Array(32);
    assert.throws(() => signSchnorrDigest(digest, new Uint8Array(32)));
    assert.throws(() => signSchnorrDigest(digest, new Uint8Array(32).fill(0xff)));
  });
});
