import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountsOf } from '../../../src/protocols/bitcoin/accounts.ts';
import { analyzePsbt } from '../../../src/protocols/bitcoin/analyze-psbt.ts';
import { CHANGE_INDEX_LIMIT } from '../../../src/protocols/bitcoin/outputs.ts';
import { decodePsbt } from '../../../src/protocols/bitcoin/psbt-decode.ts';
import { signPsbtOperation as op } from '../../../src/protocols/bitcoin/sign-psbt/operation.ts';
import type { SignPsbtReviewPayload } from '../../../src/protocols/bitcoin/sign-psbt/review.ts';
import { buildPsbt, changeOutput, identityView, PAYEE } from './fixture.ts';

const KEYS = identityView();
const ACCOUNTS = accountsOf(KEYS);
const withChangeAt = (index: number) =>
  buildPsbt(
    [{ purpose: 84, amount: 100_000n }],
    [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n, index)],
  );

test('change counts only below CHANGE_INDEX_LIMIT: past it no wallet scans, so it is spent', () => {
  for (const [index, role] of [
    [CHANGE_INDEX_LIMIT - 1, 'change'],
    [CHANGE_INDEX_LIMIT, 'external'],
    [2 ** 31 - 1, 'external'],
  ] as const) {
    const { tx, version } = decodePsbt(withChangeAt(index));
    const a = analyzePsbt(tx, version, ACCOUNTS);
    assert.equal(a.outputs[1]!.role, role, `index ${index}`);
    assert.equal(a.changeTotal, role === 'change' ? 39_000n : 0n);
    assert.equal(a.externalTotal, role === 'change' ? 60_000n : 99_000n);
  }
});

test('the review shows where each change output’s key is', async () => {
  const parsed = op.parse({ psbt: withChangeAt(7) }, new Date());
  const intent = await op.toIntent(parsed, { identity: 'psbt-tester', publicKeys: KEYS, backend: null });
  const payload = op.review(parsed, intent, KEYS).payload as SignPsbtReviewPayload;
  assert.deepEqual(
    payload.outputs.map((o) => o.changePath),
    [null, "84'/…/0'/1/7"],
  );
});
