import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Transaction } from '@scure/btc-signer';
import { isWardenError } from '../../../src/core/errors.ts';
import { signPsbtInputs } from '../../../src/keys/bitcoin-psbt-signer.ts';
import { type BitcoinPsbtSigner, signerFor } from '../../../src/keys/capabilities.ts';
import type { SignPsbtDetail } from '../../../src/protocols/bitcoin/sign-psbt/intent.ts';
import { signPsbtOperation as op } from '../../../src/protocols/bitcoin/sign-psbt/operation.ts';
import { buildPsbt, identityView, keyAt, PAYEE, seedVault } from './fixture.ts';

const ctx = { identity: 'psbt-tester', publicKeys: identityView(), backend: null };
/** Input 0 with ALL, input 1 with NONE (a policy allowed it by name): the set of types is {ALL, NONE}. */
const MIXED = buildPsbt(
  [
    { purpose: 84, index: 0, amount: 50_000n, sighashType: 0x01 },
    { purpose: 84, index: 1, amount: 50_000n, sighashType: 0x02 },
  ],
  [{ script: PAYEE, amount: 99_000n }],
);

test('the intent keeps the sighash type of each input it signs', async () => {
  const intent = await op.toIntent(op.parse({ psbt: MIXED }, new Date()), ctx);
  assert.deepEqual(
    (intent.detail as SignPsbtDetail).toSign.map((k) => [k.input, k.sighash]),
    [
      [0, 0x01],
      [1, 0x02],
    ],
  );
});

test('a signature with another type than its input’s is never returned, even one in the set', async () => {
  const parsed = op.parse({ psbt: MIXED }, new Date());
  const intent = await op.toIntent(parsed, ctx);
  const honest = signerFor(seedVault(), 'psbt-tester', 'bitcoin-psbt');
  // A signer that signs input 0 with NONE (in the set, not input 0's type): commits to no output.
  const wrong: BitcoinPsbtSigner = {
    ...honest,
    signInputs: (psbt) => {
      const tx = psbt instanceof Transaction ? psbt : Transaction.fromPSBT(psbt);
      tx.updateInput(0, { sighashType: 0x02 }, true);
      tx.signIdx(keyAt(84, 0, 0).privateKey!, 0, [0x02]);
      tx.signIdx(keyAt(84, 0, 1).privateKey!, 1, [0x02]);
      return tx.toPSBT();
    },
  };
  const outcome = op.sign!(parsed, intent, wrong);
  assert.equal(outcome.status, 'failed');
  assert.equal((outcome as { code: string }).code, 'SIGNING_FAILED');
  assert.equal(op.sign!(parsed, intent, honest).status, 'done');
});

test('the signer signs each input with its own judged type only', () => {
  const bytes = Buffer.from(MIXED, 'base64');
  // Input 1's PSBT says NONE, but it was judged ALL: refused, though NONE is in the allowed set.
  assert.throws(
    () =>
      signPsbtInputs(
        seedVault(),
        'psbt-tester',
        1,
        bytes,
        [{ input: 1, purpose: 84, chain: 0, index: 1, sighash: 0x01 }],
        [0x01, 0x02],
      ),
    (e: unknown) => isWardenError(e),
  );
});
