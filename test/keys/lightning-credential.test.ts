/**
 * The `lightning-credential` capability: the identity's sealed backend credential lent to one
 * call, its copy wiped when the call settles (returned or thrown), never handed to anyone else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedClock } from '../../src/core/clock.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { signerFor } from '../../src/keys/capabilities.ts';
import { Vault } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

const MACAROON = Uint8Array.from({ length: 40 }, (_, i) => 200 - i);

async function vaultWith(kind: 'macaroon' | 'rune' | null) {
  const vault = await Vault.create(tempHome('cred'), passphrase(), fixedClock(new Date()), TEST_KDF);
  vault.setAuditSink(async () => {});
  await vault.commitNew('vault.init');
  await vault.createIdentity('alice');
  await vault.createIdentity('bob');
  if (kind) await vault.setLightningCredential('alice', kind, Uint8Array.from(MACAROON));
  return vault;
}

test('lent for one call: the bytes are the sealed ones, and wiped once the call resolves or throws', async () => {
  const vault = await vaultWith('macaroon');
  const cred = signerFor(vault, 'alice', 'lightning-credential');
  assert.equal(cred.kind, 'macaroon');
  let kept: Uint8Array | null = null;
  const out = await cred.use(async (bytes) => {
    kept = bytes;
    assert.deepEqual(bytes, MACAROON);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return 'paid';
  });
  assert.equal(out, 'paid');
  assert.ok(kept && (kept as Uint8Array).every((b) => b === 0), 'wiped after the call');
  let again: Uint8Array | null = null;
  await assert.rejects(
    cred.use(async (bytes) => {
      again = bytes;
      throw new Error('the backend failed');
    }),
    /the backend failed/,
  );
  assert.ok(again && (again as Uint8Array).every((b) => b === 0), 'wiped after a throw');
  // Each call unseals anew: the sealed slot is untouched by the wipe.
  await cred.use(async (bytes) => assert.deepEqual(bytes, MACAROON));
});

test('an identity without a credential gets no capability (KEY_NOT_ACTIVE); another identity never sees it', async () => {
  const vault = await vaultWith('macaroon');
  assert.throws(
    () => signerFor(vault, 'bob', 'lightning-credential'),
    (e) => isWardenError(e, 'KEY_NOT_ACTIVE'),
  );
  const empty = await vaultWith(null);
  assert.throws(
    () => signerFor(empty, 'alice', 'lightning-credential'),
    (e) => isWardenError(e, 'KEY_NOT_ACTIVE'),
  );
  const rune = await vaultWith('rune');
  assert.equal(signerFor(rune, 'alice', 'lightning-credential').kind, 'rune');
});
