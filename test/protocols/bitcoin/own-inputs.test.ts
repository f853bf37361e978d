import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Transaction } from '@scure/btc-signer';
import { _RawPSBTV0 } from '@scure/btc-signer/psbt.js';
import { isWardenError } from '../../../src/core/errors.ts';
import { accountsOf } from '../../../src/protocols/bitcoin/accounts.ts';
import { analyzePsbt } from '../../../src/protocols/bitcoin/analyze-psbt.ts';
import { signPsbtOperation as op } from '../../../src/protocols/bitcoin/sign-psbt/operation.ts';
import { buildPsbt, identityView, keyAt, PAYEE, STRANGER } from './fixture.ts';

/**
 * What the signer refuses is refused when the request is judged, before an operator may approve a
 * hold of a request that can never be signed.
 */
const ctx = { identity: 'psbt-tester', publicKeys: identityView(), backend: null };
const ACCOUNTS = accountsOf(ctx.publicKeys);
const intentOf = (psbt: string) => op.toIntent(op.parse({ psbt }, new Date()), ctx);

function taproot() {
  const b64 = buildPsbt(
    [{ purpose: 86, amount: 50_000n, previous: false }],
    [{ script: PAYEE, amount: 49_000n }],
  );
  return Transaction.fromPSBT(Buffer.from(b64, 'base64'));
}
function segwit() {
  const b64 = buildPsbt([{ purpose: 84, amount: 50_000n }], [{ script: PAYEE, amount: 49_000n }]);
  return Transaction.fromPSBT(Buffer.from(b64, 'base64'));
}
const b64 = (tx: Transaction) => Buffer.from(tx.toPSBT()).toString('base64');

async function refused(tx: Transaction, reason: string) {
  await assert.rejects(intentOf(b64(tx)), (e: unknown) => {
    assert.ok(isWardenError(e, 'INVALID_REQUEST'), String(e));
    assert.equal(e.details.reason, reason, e.message);
    assert.equal(e.details.input, 0);
    return true;
  });
}

test('the honest PSBTs pass', async () => {
  await intentOf(b64(taproot()));
  await intentOf(b64(segwit()));
});

/**
 * The library itself refuses these taproot fields when they do not commit to the spent script, at
 * decode: the analysis must not rely on it, so it is handed the input as a library that did not
 * check would hand it over.
 */
function refusedByAnalysis(patch: Record<string, unknown>, reason: string) {
  const raw = _RawPSBTV0.decode(taproot().toPSBT());
  Object.assign(raw.inputs[0]!, patch);
  assert.throws(
    () => op.parse({ psbt: Buffer.from(_RawPSBTV0.encode(raw)).toString('base64') }, new Date()),
    (e: unknown) => isWardenError(e, 'INVALID_REQUEST') && e.details.reason === 'not_psbt',
  );
  const tx = taproot();
  const input = { ...tx.getInput(0), ...patch };
  const hostile = new Proxy(tx, {
    get: (target, key) =>
      key === 'getInput'
        ? (i: number) => (i === 0 ? input : target.getInput(i))
        : Reflect.get(target, key, target),
  });
  assert.throws(
    () => analyzePsbt(hostile, 0, ACCOUNTS),
    (e: unknown) =>
      isWardenError(e, 'INVALID_REQUEST') && e.details.reason === reason && e.details.input === 0,
  );
}

test('a tapMerkleRoot on our BIP-86 input', () => {
  refusedByAnalysis({ tapMerkleRoot: new Uint8Array(32).fill(9) }, 'taproot_script_tree');
});

test('a tapLeafScript on our BIP-86 input', () => {
  const internalKey = keyAt(86, 0, 0).publicKey!.subarray(1);
  refusedByAnalysis(
    { tapLeafScript: [[{ version: 0xc0, internalKey, merklePath: [] }, Uint8Array.of(0x51, 0xc0)]] },
    'taproot_script_tree',
  );
});

test('a tapInternalKey on our input that is not ours', () => {
  refusedByAnalysis(
    { tapInternalKey: STRANGER.derive("m/86'/1'/0'/0/0").publicKey!.subarray(1) },
    'foreign_internal_key',
  );
});

test('an existing signature on our input, P2WPKH or taproot', async () => {
  const wpkh = segwit();
  wpkh.signIdx(keyAt(84, 0, 0).privateKey!, 0);
  assert.equal(wpkh.getInput(0).partialSig?.length, 1);
  await refused(wpkh, 'already_signed');
  const tr = taproot();
  tr.signIdx(keyAt(86, 0, 0).privateKey!, 0);
  assert.ok(tr.getInput(0).tapKeySig);
  await refused(tr, 'already_signed');
});
