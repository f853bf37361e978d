import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWardenError } from '../../../src/core/errors.ts';
import { evaluate } from '../../../src/policy/evaluate.ts';
import { addressOfScript } from '../../../src/protocols/bitcoin/addresses.ts';
import { signPsbtOperation as op } from '../../../src/protocols/bitcoin/sign-psbt/operation.ts';
import { UNCOMMITTED_DESTINATION } from '../../../src/protocols/bitcoin/uncommitted.ts';
import { NOW, policy, risk, snapshot } from '../../policy/helpers.ts';
import { buildPsbt, changeOutput, identityView, PAYEE, STRANGER } from './fixture.ts';

const ctx = { identity: 'psbt-tester', publicKeys: identityView(), backend: null };
const intentOf = (psbt: string) => op.toIntent(op.parse({ psbt }, new Date()), ctx);
const PAYEE_ADDRESS = addressOfScript(PAYEE, 'regtest')!;

for (const [name, sighash] of [
  ['NONE', 0x02],
  ['NONE|ANYONECANPAY', 0x82],
] as const) {
  test(`SIGHASH_${name}: no change is credited, all the signed input brings is spent`, async () => {
    const intent = await intentOf(
      buildPsbt(
        [{ purpose: 84, amount: 100_000n, sighashType: sighash }],
        [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
      ),
    );
    assert.equal(intent.amount, 100_000n);
    assert.deepEqual(intent.destinations, [PAYEE_ADDRESS, UNCOMMITTED_DESTINATION]);
  });
}

test('SIGHASH_SINGLE: only the change at the signed input’s own index is credited', async () => {
  const committed = await intentOf(
    buildPsbt(
      [{ purpose: 84, amount: 100_000n, sighashType: 0x03 }],
      [changeOutput(39_000n), { script: PAYEE, amount: 60_000n }],
    ),
  );
  assert.equal(committed.amount, 61_000n);
  assert.ok(committed.destinations.includes(UNCOMMITTED_DESTINATION));
  const elsewhere = await intentOf(
    buildPsbt(
      [{ purpose: 84, amount: 100_000n, sighashType: 0x83 }],
      [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
    ),
  );
  assert.equal(elsewhere.amount, 100_000n);
});

test('SIGHASH_SINGLE on one of ours next to ALL on another: only the inputs we sign count', async () => {
  const intent = await intentOf(
    buildPsbt(
      [
        { purpose: 84, index: 0, amount: 50_000n, sighashType: 0x01 },
        { purpose: 84, index: 1, amount: 50_000n, sighashType: 0x03 },
        { purpose: 84, amount: 10_000n, foreign: STRANGER },
      ],
      [{ script: PAYEE, amount: 10_000n }, changeOutput(89_000n)],
    ),
  );
  // Output 1 is change that input 1's SINGLE commits to: 100,000 − 89,000 (the fee included).
  assert.equal(intent.amount, 11_000n);
  assert.ok(intent.destinations.includes(UNCOMMITTED_DESTINATION));
});

test('an allowlist policy never allows a request whose outputs are not committed', async () => {
  const intent = await intentOf(
    buildPsbt(
      [{ purpose: 84, amount: 100_000n, sighashType: 0x02 }],
      [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
    ),
  );
  const p = policy(`rules:
  - id: blank-cheques
    match: { protocol: bitcoin, action: sign_psbt, sighash: none }
    effect: allow
    allowlist: ["${PAYEE_ADDRESS}"]
`);
  const d = evaluate(intent, risk(1), snapshot(), p, NOW);
  assert.equal(d.outcome, 'deny', JSON.stringify(d));
  // And no list can name it: policy destinations hold no whitespace.
  assert.throws(
    () => policy(`rules:\n  - { id: x, effect: allow, allowlist: ["${UNCOMMITTED_DESTINATION}"] }\n`),
    (e: unknown) => isWardenError(e, 'POLICY_INVALID'),
  );
});

test('SIGHASH_ALL keeps crediting change, with no pseudo-destination', async () => {
  const intent = await intentOf(
    buildPsbt(
      [{ purpose: 84, amount: 100_000n }],
      [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
    ),
  );
  assert.equal(intent.amount, 60_000n);
  assert.deepEqual(intent.destinations, [PAYEE_ADDRESS]);
});
