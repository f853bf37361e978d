import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { auditKeyId, DETAILS_NONCE_LENGTH, memoryAuditKeyring } from '../../src/audit/keyring.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { testKeyring } from './helpers.ts';

test('the memory keyring encrypts with a fresh random nonce and binds the aad', async () => {
  const keyring = testKeyring();
  const plain = utf8('{"to":"x"}');
  const a = await keyring.encrypt(plain, utf8('aad-1'));
  const b = await keyring.encrypt(plain, utf8('aad-1'));
  assert.equal(a.length, DETAILS_NONCE_LENGTH + plain.length + 16);
  assert.notDeepEqual(a.subarray(0, DETAILS_NONCE_LENGTH), b.subarray(0, DETAILS_NONCE_LENGTH));
  assert.deepEqual(await keyring.decrypt(a, utf8('aad-1')), plain);
  await assert.rejects(keyring.decrypt(a, utf8('aad-2')), (err) => isWardenError(err, 'INVALID_ARGUMENT'));
  await assert.rejects(keyring.decrypt(a.subarray(0, 10), utf8('aad-1')), (err) =>
    isWardenError(err, 'INVALID_ARGUMENT'),
  );
  const tampered = Uint8Array.from(a);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
  await assert.rejects(keyring.decrypt(tampered, utf8('aad-1')));
});

test('the memory keyring copies its secrets and checks their length', async () => {
  const signing = sha256(utf8('s'));
  const details = sha256(utf8('d'));
  const keyring = memoryAuditKeyring(signing, details);
  const blob = await keyring.encrypt(utf8('hello'), utf8(''));
  signing.fill(0);
  details.fill(0);
  // The caller wiped its buffers; the keyring still works with its own copies.
  assert.deepEqual(await keyring.decrypt(blob, utf8('')), utf8('hello'));
  assert.equal(keyring.keyId, auditKeyId(keyring.publicKey));
  assert.throws(() => memoryAuditKeyring(new Uint8Array(31), new Uint8Array(32)), {
    code: 'INVALID_ARGUMENT',
  });
  assert.throws(() => memoryAuditKeyring(new Uint8Array(32), new Uint8Array(16)), {
    code: 'INVALID_ARGUMENT',
  });
});
