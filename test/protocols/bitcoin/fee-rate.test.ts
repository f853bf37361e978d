import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWardenError } from '../../../src/core/errors.ts';
import { accountsOf } from '../../../src/protocols/bitcoin/accounts.ts';
import { analyzePsbt } from '../../../src/protocols/bitcoin/analyze-psbt.ts';
import { decodePsbt } from '../../../src/protocols/bitcoin/psbt-decode.ts';
import { buildPsbt, identityView, PAYEE, STRANGER } from './fixture.ts';

const ACCOUNTS = accountsOf(identityView());

/** Our input and a stranger's, paying a fee far above the 1,000 sat/vB cap (about 2,900 sat/vB). */
function expensive() {
  const b64 = buildPsbt(
    [
      { purpose: 84, amount: 600_000n },
      { purpose: 84, amount: 10_000n, foreign: STRANGER },
    ],
    [{ script: PAYEE, amount: 100_000n }],
  );
  return decodePsbt(b64).tx;
}

test('a foreign input finalized with a huge dummy witness does not dilute the fee rate', () => {
  const tx = expensive();
  // 40 KB of witness the stranger can later replace by a 108-byte one: our SIGHASH_ALL does not
  // commit to witnesses. Counted, it would make ~2,900 sat/vB look like ~50.
  tx.updateInput(1, { finalScriptWitness: [new Uint8Array(40_000), new Uint8Array(33)] }, true);
  const dummy = decodePsbt(Buffer.from(tx.toPSBT()).toString('base64')).tx;
  assert.ok(dummy.getInput(1).finalScriptWitness, 'the dummy witness survives the round trip');
  assert.throws(
    () => analyzePsbt(dummy, 0, ACCOUNTS),
    (e: unknown) => isWardenError(e, 'FEE_TOO_HIGH') && e.details.feeRateMsatPerVb !== undefined,
  );
});

test('a foreign input finalized with a huge dummy scriptSig does not dilute the fee rate', () => {
  const tx = expensive();
  tx.updateInput(1, { finalScriptSig: new Uint8Array(40_000) }, true);
  const dummy = decodePsbt(Buffer.from(tx.toPSBT()).toString('base64')).tx;
  assert.throws(
    () => analyzePsbt(dummy, 0, ACCOUNTS),
    (e: unknown) => isWardenError(e, 'FEE_TOO_HIGH') && e.details.feeRateMsatPerVb !== undefined,
  );
});

test('the estimate sizes both inputs as P2WPKH spends, whatever is final', () => {
  const tx = expensive();
  const plain = analyzePsbt(tx, 0, ACCOUNTS, {
    allowSighash: [],
    allowWitnessUtxoAmounts: false,
    maxFeeSat: 5_000_000n,
    maxFeeRateMsatPerVb: 10_000_000n,
  });
  // 2 inputs, 1 P2WPKH output: 10 + 2×41 + 31 = 123 base bytes, 2 + 2×108 witness bytes → 178 vB.
  assert.equal(plain.vsize, 178);
});
