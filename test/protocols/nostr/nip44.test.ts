import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { schnorr } from '@noble/curves/secp256k1.js';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import fc from 'fast-check';
import { v2 } from 'nostr-tools/nip44';
import { fixedClock } from '../../../src/core/clock.ts';
import { WardenError } from '../../../src/core/errors.ts';
import { type NostrEncryptor, signerFor } from '../../../src/keys/capabilities.ts';
import {
  nip44ConversationKey,
  nip44DecryptWith,
  nip44EncryptWith,
} from '../../../src/keys/nostr-encryption.ts';
import { Vault } from '../../../src/keys/vault.ts';
import {
  checkNip44Payload,
  isNip44CiphertextLength,
  NIP44_MAX_PLAINTEXT_BYTES,
  nip44Decrypt,
  nip44Encrypt,
  nip44MaxPayloadChars,
  nip44PaddedLength,
} from '../../../src/protocols/nostr/nip44.ts';
import { moduleErrorCode } from '../../../src/protocols/registry.ts';
import { passphrase, TEST_KDF, tempHome } from '../../helpers/home.ts';

const VECTORS = new URL('./vectors/', import.meta.url);
const OFFICIAL_FILE = new URL('nip44.vectors.json', VECTORS);
const EXTENDED_FILE = new URL('nip44-extended-prefix.from-spec.json', VECTORS);

interface EncryptDecrypt {
  sec1: string;
  sec2: string;
  conversation_key: string;
  nonce: string;
  plaintext: string;
  payload: string;
}
interface LongMessage {
  conversation_key: string;
  nonce: string;
  pattern: string;
  repeat: number;
  plaintext_sha256: string;
  payload_sha256: string;
}
const { v2: V } = JSON.parse(readFileSync(OFFICIAL_FILE, 'utf8')) as {
  v2: {
    valid: {
      get_conversation_key: { sec1: string; pub2: string; conversation_key: string }[];
      get_message_keys: {
        conversation_key: string;
        keys: { nonce: string; chacha_key: string; chacha_nonce: string; hmac_key: string }[];
      };
      calc_padded_len: [number, number][];
      encrypt_decrypt: EncryptDecrypt[];
      encrypt_decrypt_long_msg: LongMessage[];
    };
    invalid: {
      encrypt_msg_lengths: number[];
      get_conversation_key: { sec1: string; pub2: string; note: string }[];
      decrypt: {
        conversation_key: string;
        nonce: string;
        plaintext: string;
        payload: string;
        note: string;
      }[];
    };
  };
};
const EXTENDED = JSON.parse(readFileSync(EXTENDED_FILE, 'utf8')) as {
  conversation_key: string;
  nonce: string;
  plaintext_byte: string;
  vectors: {
    plaintext_len: number;
    prefix: string;
    padded_len: number;
    plaintext_sha256: string;
    payload_sha256: string;
  }[];
};

const hex = (h: string) => hexToBytes(h);
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const xOnly = (secHex: string) => bytesToHex(schnorr.getPublicKey(hex(secHex)));
/** Some valid peer key, for payloads whose vectors give only a conversation key. */
const ANY_PEER = xOnly('0000000000000000000000000000000000000000000000000000000000000001');

/** An encryptor over a known conversation key (the vectors'), through keys/' own functions. */
function encryptorOf(conversationKey: string): NostrEncryptor {
  const key = hex(conversationKey);
  return {
    publicKey: '',
    encrypt: (_peer, plaintext) => nip44EncryptWith(key, plaintext),
    decrypt: (_peer, payload) => nip44DecryptWith(key, payload),
  };
}

/** The reason of a NIP44_REFUSED, or 'accepted'; any other exception fails the test. */
function refusal(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (!(err instanceof WardenError)) throw new Error(`threw a non-WardenError: ${String(err)}`);
    assert.equal(err.code, 'NIP44_REFUSED', err.message);
    return String(err.details.reason);
  }
}

test('the vector files match the sha256 recorded in PROVENANCE.txt (and 44.md’s checksum)', () => {
  const provenance = readFileSync(new URL('PROVENANCE.txt', VECTORS), 'utf8');
  const recorded = [...provenance.matchAll(/sha256\s*:\s*([0-9a-f]{64})/g)].map((m) => m[1]);
  const digest = (file: URL) => createHash('sha256').update(readFileSync(file)).digest('hex');
  assert.deepEqual(recorded, [digest(OFFICIAL_FILE), digest(EXTENDED_FILE)]);
  assert.equal(recorded[0], '269ed0f69e4c192512cc779e78c555090cebc7c785b609e338a62afc3ce25040');
});

test('NIP44_REFUSED is nostr’s code, registered with HTTP 400', () => {
  assert.equal(moduleErrorCode('NIP44_REFUSED')?.httpStatus, 400);
});

test('valid.get_conversation_key: all 35 conversation keys', () => {
  assert.equal(V.valid.get_conversation_key.length, 35);
  for (const v of V.valid.get_conversation_key)
    assert.equal(bytesToHex(nip44ConversationKey(hex(v.sec1), v.pub2)), v.conversation_key, v.sec1);
});

test('valid.get_message_keys: the 32 message keys are HKDF-expand(conversation key, nonce, 76)', () => {
  const { conversation_key, keys } = V.valid.get_message_keys;
  assert.equal(keys.length, 32);
  for (const k of keys) {
    const out = expand(sha256, hex(conversation_key), hex(k.nonce), 76);
    assert.equal(bytesToHex(out.subarray(0, 32)), k.chacha_key);
    assert.equal(bytesToHex(out.subarray(32, 44)), k.chacha_nonce);
    assert.equal(bytesToHex(out.subarray(44, 76)), k.hmac_key);
  }
});

test('valid.calc_padded_len: all 24 lengths, and every prefixed result is a ciphertext length we accept', () => {
  assert.equal(V.valid.calc_padded_len.length, 24);
  for (const [len, padded] of V.valid.calc_padded_len) {
    assert.equal(v2.utils.calcPaddedLen(len), padded, String(len));
    const prefix = len >= 65_536 ? 6 : 2;
    assert.equal(nip44PaddedLength(len), prefix + padded, String(len));
    assert.ok(isNip44CiphertextLength(prefix + padded), String(len));
  }
  // Around the amendment's boundary: the spec's table (65535 → 65536, 65536 → 65536, 65537 → 81920).
  for (const v of EXTENDED.vectors) assert.equal(v2.utils.calcPaddedLen(v.plaintext_len), v.padded_len);
  // A length no plaintext pads to is not a ciphertext's: 34 is, 35 is not; 65538 (u16) is, 65539 not.
  assert.deepEqual([34, 35, 65_538, 65_539, 65_542, 65_541].map(isNip44CiphertextLength), [
    true,
    false,
    true,
    false,
    true,
    false,
  ]);
});

test('valid.encrypt_decrypt: all 10 conversations, both ways, with the vectors’ nonces', () => {
  assert.equal(V.valid.encrypt_decrypt.length, 10);
  for (const v of V.valid.encrypt_decrypt) {
    const pub1 = xOnly(v.sec1);
    const pub2 = xOnly(v.sec2);
    const key12 = nip44ConversationKey(hex(v.sec1), pub2);
    assert.equal(bytesToHex(key12), v.conversation_key);
    assert.equal(nip44EncryptWith(key12, v.plaintext, hex(v.nonce)), v.payload);
    const key21 = nip44ConversationKey(hex(v.sec2), pub1);
    assert.equal(bytesToHex(key21), v.conversation_key);
    assert.equal(checkNip44Payload(v.payload), v.payload);
    assert.equal(nip44Decrypt(encryptorOf(bytesToHex(key21)), pub1, v.payload), v.plaintext);
  }
});

function replayLong(v: LongMessage & { plaintext: string }) {
  assert.equal(sha256Hex(v.plaintext), v.plaintext_sha256);
  const payload = nip44EncryptWith(hex(v.conversation_key), v.plaintext, hex(v.nonce));
  assert.equal(sha256Hex(payload), v.payload_sha256);
  assert.equal(nip44Decrypt(encryptorOf(v.conversation_key), ANY_PEER, payload), v.plaintext);
  return payload;
}

test('valid.encrypt_decrypt_long_msg: the 3 long messages (by their checksums)', () => {
  assert.equal(V.valid.encrypt_decrypt_long_msg.length, 3);
  for (const v of V.valid.encrypt_decrypt_long_msg)
    replayLong({ ...v, plaintext: v.pattern.repeat(v.repeat) });
});

test('the 2026 amendment’s extended-prefix vectors (44.md): 65535 keeps the u16 prefix, 65536 and 65537 take 6 bytes', () => {
  assert.equal(EXTENDED.vectors.length, 3);
  const char = String.fromCharCode(Number.parseInt(EXTENDED.plaintext_byte, 16));
  for (const v of EXTENDED.vectors) {
    const payload = replayLong({
      conversation_key: EXTENDED.conversation_key,
      nonce: EXTENDED.nonce,
      pattern: char,
      repeat: v.plaintext_len,
      plaintext_sha256: v.plaintext_sha256,
      payload_sha256: v.payload_sha256,
      plaintext: char.repeat(v.plaintext_len),
    });
    const prefix = v.prefix.startsWith('u16') ? 2 : 6;
    assert.equal(base64.decode(payload).length, 65 + prefix + v.padded_len, String(v.plaintext_len));
  }
});

test('invalid.encrypt_msg_lengths: 0 is refused; 65536, 100000 and 10000000 follow the amended spec, not the file', () => {
  // The vectors file predates nostr-protocol/nips#1907 and still lists 65536 and more as invalid;
  // the amended spec allows up to 2^32 - 1 bytes (6-byte prefix). We follow the spec (see PROVENANCE).
  assert.deepEqual(V.invalid.encrypt_msg_lengths, [0, 65_536, 100_000, 10_000_000]);
  const key = hex(EXTENDED.conversation_key);
  const encryptor = encryptorOf(EXTENDED.conversation_key);
  for (const length of V.invalid.encrypt_msg_lengths) {
    const plaintext = 'x'.repeat(length);
    if (length === 0) {
      assert.equal(
        refusal(() => nip44EncryptWith(key, plaintext)),
        'plaintext',
      );
      assert.equal(
        refusal(() => nip44Encrypt(encryptor, ANY_PEER, plaintext)),
        'plaintext',
      );
      continue;
    }
    // keys/ encrypts what the spec allows…
    const payload = nip44EncryptWith(key, plaintext);
    assert.equal(nip44DecryptWith(key, payload), plaintext);
    assert.equal(base64.decode(payload).length, 65 + 6 + v2.utils.calcPaddedLen(length));
    // …and Warden's front bounds what it accepts (1 MiB): 10,000,000 bytes is over it, both ways.
    const warden = length <= NIP44_MAX_PLAINTEXT_BYTES;
    assert.equal(
      refusal(() => nip44Encrypt(encryptor, ANY_PEER, plaintext)),
      warden ? 'accepted' : 'plaintext',
    );
    assert.equal(
      refusal(() => nip44Decrypt(encryptor, ANY_PEER, payload)),
      warden ? 'accepted' : 'length',
    );
  }
});

test('Warden’s bound: a 1 MiB plaintext round-trips, one byte more is refused, the longest payload is accepted', () => {
  const key = EXTENDED.conversation_key;
  const encryptor = encryptorOf(key);
  const max = 'y'.repeat(NIP44_MAX_PLAINTEXT_BYTES);
  const payload = nip44Encrypt(encryptor, ANY_PEER, max);
  assert.equal(payload.length, nip44MaxPayloadChars());
  assert.equal(nip44Decrypt(encryptor, ANY_PEER, payload), max);
  assert.equal(
    refusal(() => nip44Encrypt(encryptor, ANY_PEER, `${max}y`)),
    'plaintext',
  );
  // Multi-byte text counts in UTF-8 bytes.
  assert.equal(
    refusal(() => nip44Encrypt(encryptor, ANY_PEER, 'é'.repeat(NIP44_MAX_PLAINTEXT_BYTES / 2 + 1))),
    'plaintext',
  );
  assert.equal(
    refusal(() => checkNip44Payload(`${payload}AAAA`)),
    'length',
  );
});

test('invalid.get_conversation_key: all 8 refused with NIP44_REFUSED (secret or public key)', () => {
  assert.equal(V.invalid.get_conversation_key.length, 8);
  for (const v of V.invalid.get_conversation_key) {
    const expected = /^sec1/.test(v.note) ? 'secret_key' : 'public_key';
    assert.equal(
      refusal(() => nip44ConversationKey(hex(v.sec1), v.pub2)),
      expected,
      v.note,
    );
  }
});

test('invalid.decrypt: all 12 refused with NIP44_REFUSED and the reason of the vector’s note', () => {
  assert.equal(V.invalid.decrypt.length, 12);
  const REASON: [RegExp, string][] = [
    [/^unknown encryption version/, 'version'],
    [/^invalid base64/, 'base64'],
    [/^invalid MAC/, 'mac'],
    [/^invalid padding/, 'padding'],
    [/^invalid payload length/, 'length'],
  ];
  for (const v of V.invalid.decrypt) {
    const expected = REASON.find(([re]) => re.test(v.note))?.[1];
    assert.ok(expected, v.note);
    const encryptor = encryptorOf(v.conversation_key);
    assert.equal(
      refusal(() => nip44Decrypt(encryptor, ANY_PEER, v.payload)),
      expected,
      v.note,
    );
    // keys/ alone (no checks before it) refuses them too, with the same code.
    assert.notEqual(
      refusal(() => nip44DecryptWith(hex(v.conversation_key), v.payload)),
      'accepted',
      v.note,
    );
  }
});

test('hostile values of the wrong type, peers off the curve, and lone surrogates are refused', () => {
  const encryptor = encryptorOf(EXTENDED.conversation_key);
  for (const payload of [undefined, null, 42, {}, [], Buffer.from('x')])
    assert.equal(
      refusal(() => nip44Decrypt(encryptor, ANY_PEER, payload)),
      'type',
    );
  for (const peer of [
    undefined,
    7,
    '',
    ANY_PEER.toUpperCase(),
    `02${ANY_PEER}`,
    'f'.repeat(64),
    '0'.repeat(64),
  ])
    assert.equal(
      refusal(() => nip44Encrypt(encryptor, peer, 'hi')),
      'public_key',
    );
  for (const text of ['\uD800', 'a\uDC00b', 'ok\uD83D'])
    assert.equal(
      refusal(() => nip44Encrypt(encryptor, ANY_PEER, text)),
      'plaintext',
    );
  assert.equal(
    refusal(() => nip44EncryptWith(hex(EXTENDED.conversation_key), '\uDFFF')),
    'plaintext',
  );
  assert.equal(
    refusal(() => nip44Decrypt(encryptor, ANY_PEER, `#${'A'.repeat(200)}`)),
    'version',
  );
});

test('property: any well-formed text round-trips (short, and across the 65,536-byte boundary)', () => {
  const encryptor = encryptorOf(EXTENDED.conversation_key);
  const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 400 });
  fc.assert(
    fc.property(text, (plaintext) => {
      const wellFormed = !/\p{Cs}/u.test(plaintext);
      const outcome = refusal(() => {
        const payload = nip44Encrypt(encryptor, ANY_PEER, plaintext);
        assert.equal(nip44Decrypt(encryptor, ANY_PEER, payload), plaintext);
      });
      assert.equal(outcome, wellFormed ? 'accepted' : 'plaintext');
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 65_500, max: 70_000 }), fc.constantFrom('a', 'é', '🦄'), (bytes, unit) => {
      const plaintext = unit.repeat(Math.ceil(bytes / new TextEncoder().encode(unit).length));
      const payload = nip44Encrypt(encryptor, ANY_PEER, plaintext);
      assert.equal(nip44Decrypt(encryptor, ANY_PEER, payload), plaintext);
    }),
    { numRuns: 15 },
  );
});

test('property: random and mutated payloads only ever raise NIP44_REFUSED, never with the plaintext or key', () => {
  const key = EXTENDED.conversation_key;
  const encryptor = encryptorOf(key);
  const plaintext = 'the secret plan: meet at the relay at noon';
  const good = nip44Encrypt(encryptor, ANY_PEER, plaintext);
  const goodBytes = base64.decode(good);
  const judge = (payload: unknown) => {
    try {
      // A mutation of base64's unused bits can decode to the same bytes: then it is the same message.
      assert.equal(nip44Decrypt(encryptor, ANY_PEER, payload), plaintext);
    } catch (err) {
      if (!(err instanceof WardenError)) throw new Error(`threw a non-WardenError: ${String(err)}`);
      assert.equal(err.code, 'NIP44_REFUSED');
      const said = `${err.message} ${JSON.stringify(err.details)}`;
      assert.ok(!said.includes('secret plan') && !said.includes(key) && !said.includes(good.slice(0, 40)));
    }
  };
  const bytesMutation = fc.oneof(
    // flip bits of one byte
    fc.tuple(fc.nat(goodBytes.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = goodBytes.slice();
      b[i]! ^= x;
      return base64.encode(b);
    }),
    // truncate or extend
    fc.nat(goodBytes.length + 64).map((n) => {
      const b = new Uint8Array(n);
      b.set(goodBytes.subarray(0, Math.min(n, goodBytes.length)));
      return base64.encode(b);
    }),
    // a valid header with a random body
    fc.uint8Array({ minLength: 0, maxLength: 600 }).map((body) => base64.encode(Uint8Array.of(2, ...body))),
  );
  const textMutation = fc.oneof(
    fc
      .tuple(fc.nat(good.length - 1), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }))
      .map(([i, s]) => good.slice(0, i) + s + good.slice(i + 1)),
    fc.nat(good.length).map((n) => good.slice(0, n)),
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.base64String({ maxLength: 600 }),
    fc.anything(),
  );
  fc.assert(fc.property(fc.oneof(bytesMutation, textMutation), judge), { numRuns: 1500 });
  judge(good);
});

test('through the keys/ capability and a real vault: two identities talk, and no key ever comes out', async () => {
  const vault = await Vault.create(tempHome('nip44'), passphrase(), fixedClock(new Date()), TEST_KDF);
  vault.setAuditSink(async () => {});
  await vault.commitNew('vault.init');
  const carolSecret = hex('0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20');
  const carolSecretHex = bytesToHex(carolSecret);
  await vault.createIdentity('alice');
  await vault.importIdentity('carol', { nostrSecretKey: carolSecret.slice() });

  const alice = signerFor(vault, 'alice', 'nostr-encrypt');
  const carol = signerFor(vault, 'carol', 'nostr-encrypt');
  assert.equal(carol.publicKey, xOnly(carolSecretHex));
  assert.deepEqual(Object.keys(alice).sort(), ['decrypt', 'encrypt', 'publicKey']);
  assert.ok(Object.isFrozen(alice));
  assert.equal(vault.getIdentity('alice').nostr!.pubkey, alice.publicKey);

  const message = `{"method":"sign_event","params":["${'z'.repeat(70_000)}"]}`;
  const payload = nip44Encrypt(alice, carol.publicKey, message);
  assert.equal(nip44Decrypt(carol, alice.publicKey, payload), message);
  const reply = nip44Encrypt(carol, alice.publicKey, 'ack');
  assert.equal(nip44Decrypt(alice, carol.publicKey, reply), 'ack');
  // A fresh nonce every time.
  assert.notEqual(nip44Encrypt(alice, carol.publicKey, 'ack'), nip44Encrypt(alice, carol.publicKey, 'ack'));

  // Interoperable: the payload opens with nostr-tools and the conversation key of Carol's known key.
  const conversationKey = v2.utils.getConversationKey(carolSecret, alice.publicKey);
  assert.equal(v2.decrypt(payload, conversationKey), message);

  // Another conversation does not open it; the refusal names neither key nor text.
  const stranger = xOnly('00000000000000000000000000000000000000000000000000000000000000aa');
  let caught: unknown;
  try {
    nip44Decrypt(carol, stranger, payload);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WardenError && caught.code === 'NIP44_REFUSED');
  assert.equal(caught.details.reason, 'mac');

  // Nothing returned or thrown holds Carol's secret key or a conversation key.
  const everything = [
    JSON.stringify(carol),
    JSON.stringify(alice),
    payload,
    reply,
    caught.message,
    JSON.stringify(caught.details),
    String(caught.cause ?? ''),
  ].join('\n');
  for (const secret of [carolSecretHex, bytesToHex(conversationKey), base64.encode(conversationKey)])
    assert.ok(!everything.includes(secret));
  assert.ok(!Object.values(carol).some((v) => v instanceof Uint8Array));
});
