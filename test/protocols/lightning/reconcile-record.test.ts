/**
 * Lightning reconcile (src/protocols/lightning/pay/reconcile.ts) judges a payment's record before
 * it asks any backend: a record whose fee limit is missing or not a whole number of sat stays
 * unresolved (its reservation kept at the worst case), since a success whose answer names no fee
 * is booked that limit, and a limit read as 0 would under-count the budget.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightningModuleBackend } from '../../../src/protocols/lightning/backend/connect.ts';
import { lightningReconcile } from '../../../src/protocols/lightning/pay/reconcile.ts';
import type { LightningDb } from '../../../src/protocols/lightning/tables.ts';
import type { ReconcileContext } from '../../../src/protocols/module.ts';

const hash = 'ab'.repeat(32);
let asked = 0;
// Never reached for these records: any call is counted and the test fails on it.
const backend = {
  kind: 'nwc',
  withBackend: async () => {
    asked++;
    throw new Error('the backend must not be asked');
  },
} as unknown as LightningModuleBackend;
const rc = { tables: {}, signer: () => ({}) } as unknown as ReconcileContext<LightningDb>;

test('a payment record without a usable fee limit stays unresolved, and no backend is asked', async () => {
  const limits: unknown[] = [undefined, null, '', '0x10', '1e3', '-5', ' 5', '5.0', 12, '1'.repeat(20)];
  const requests = limits.map((feeLimitSat, i) => ({
    requestId: `req_${i}`,
    identity: 'bot',
    result: { paymentHash: hash, network: 'regtest', payee: 'x', amountMsat: '1000', feeLimitSat },
  }));
  const verdicts = await lightningReconcile.verdicts(requests, backend, rc);
  assert.equal(verdicts.length, limits.length);
  for (const v of verdicts) {
    assert.equal(v.verdict, 'unresolved', `${v.requestId}: ${v.reason}`);
    assert.match(v.reason, /no fee limit on record/);
  }
  assert.equal(asked, 0);
});

test('a record with a fee limit is followed on the backend (here one that does not answer: unresolved)', async () => {
  const [v] = await lightningReconcile.verdicts(
    [
      {
        requestId: 'req_ok',
        identity: 'bot',
        result: { paymentHash: hash, network: 'regtest', feeLimitSat: '10' },
      },
    ],
    backend,
    rc,
  );
  assert.equal(asked, 1);
  assert.equal(v?.verdict, 'unresolved');
  assert.match(v?.reason ?? '', /did not answer/);
});
