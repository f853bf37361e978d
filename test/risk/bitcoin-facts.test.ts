/**
 * The Bitcoin matrix rows apply on the facts of the request (its intent's `signals`, and the
 * gateway's paidBefore): present when the fact says so, absent when it says not, and the rows
 * that applied to every send before still applying when a fact is unknown.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Intent, IntentSignals } from '../../src/core/intent.ts';
import { RISK_CATALOG } from '../../src/protocols/risk-catalog.ts';
import { conditionHolds } from '../../src/risk/applies.ts';
import { assessRisk, type MonitorSignals } from '../../src/risk/assess.ts';
import type { Condition } from '../../src/risk/catalog.ts';
import { bitcoinSend } from './intents.ts';

/** A send whose every fact is the harmless one: deep coins, no small coins, a fresh payee, calm fees. */
const CALM: IntentSignals = {
  spendsUnconfirmed: false,
  minCoinDepth: 6,
  smallCoins: 0,
  paysOwnAddress: false,
  highFees: false,
  mempoolTx: 12,
  mempoolCongested: false,
};

function ids(intent: Intent, extra: MonitorSignals = {}): string[] {
  const signals = { ...intent.signals, paidBefore: false, ...extra };
  return assessRisk(intent, { tolerance: 'medium', catalog: RISK_CATALOG, signals }).risks.map((r) => r.id);
}

const send = (signals: IntentSignals, amount = 50_000n) =>
  bitcoinSend(amount, { signals: { ...CALM, ...signals } });
const psbt = (signals: IntentSignals, amount = 50_000n) =>
  bitcoinSend(amount, { action: 'sign_psbt', signals: { ...CALM, ...signals } });
const MATRIX = [
  'btc.double-spend-0conf',
  'btc.address-reuse',
  'btc.utxo-dust',
  'btc.reorg-1conf',
  'btc.reorg-6conf',
];
const matrix = (list: string[]) => list.filter((id) => MATRIX.includes(id)).sort();

describe('the matrix rows follow the facts', () => {
  test('a calm send carries none of them', () => {
    assert.deepEqual(matrix(ids(send({}))), []);
  });

  test('spending an unconfirmed coin: the 0-conf double spend, and both reorg rows', () => {
    assert.deepEqual(matrix(ids(send({ spendsUnconfirmed: true, minCoinDepth: 0 }))), [
      'btc.double-spend-0conf',
      'btc.reorg-1conf',
      'btc.reorg-6conf',
    ]);
  });

  test('coin depth: 1 block carries both reorg rows, 2 to 5 the 6-conf one, 6 neither', () => {
    assert.deepEqual(matrix(ids(send({ minCoinDepth: 1 }))), ['btc.reorg-1conf', 'btc.reorg-6conf']);
    for (const depth of [2, 5])
      assert.deepEqual(matrix(ids(send({ minCoinDepth: depth }))), ['btc.reorg-6conf']);
    assert.deepEqual(matrix(ids(send({ minCoinDepth: 6 }))), []);
  });

  test('small coins in the wallet: the dust row, its consolidation advice raised in a high-fee time', () => {
    const calm = assessRisk(send({ smallCoins: 3 }), {
      tolerance: 'medium',
      catalog: RISK_CATALOG,
      signals: send({ smallCoins: 3 }).signals,
    });
    const dust = calm.risks.find((r) => r.id === 'btc.utxo-dust');
    assert.equal(dust?.mitigation, 'Consolidate during low fees');
    assert.equal(dust?.likelihood, 4);
    const high = send({ smallCoins: 3, highFees: true });
    const raised = assessRisk(high, { tolerance: 'medium', catalog: RISK_CATALOG, signals: high.signals });
    assert.ok(
      raised.risks
        .find((r) => r.id === 'btc.utxo-dust')
        ?.adjustments.includes('monitor: high fees, likelihood +1'),
    );
  });

  test('address reuse: paying one of its own handed-out addresses, or a destination paid before', () => {
    assert.deepEqual(matrix(ids(send({ paysOwnAddress: true }))), ['btc.address-reuse']);
    assert.deepEqual(matrix(ids(send({}), { paidBefore: true })), ['btc.address-reuse']);
    assert.deepEqual(matrix(ids(psbt({ paysOwnAddress: true }))), ['btc.address-reuse']);
    assert.deepEqual(matrix(ids(psbt({}), { paidBefore: true })), ['btc.address-reuse']);
    assert.deepEqual(matrix(ids(psbt({}))), []);
  });

  test('the fee environment raises the fee rows: high fees and a congested mempool', () => {
    const hot = send({ highFees: true, mempoolCongested: true, mempoolTx: 150_000 });
    const a = assessRisk(hot, { tolerance: 'medium', catalog: RISK_CATALOG, signals: hot.signals });
    const fee = a.risks.find((r) => r.id === 'btc.fee-overpayment');
    assert.deepEqual(fee?.adjustments, [
      'monitor: high fees, likelihood +1',
      'monitor: mempool congested, likelihood +1',
    ]);
    const calm = assessRisk(send({}), {
      tolerance: 'medium',
      catalog: RISK_CATALOG,
      signals: send({}).signals,
    });
    assert.deepEqual(calm.risks.find((r) => r.id === 'btc.fee-overpayment')?.adjustments, []);
  });

  test('facts unknown (an intent stored before signals): the rows that applied to every send still do', () => {
    assert.deepEqual(matrix(ids(bitcoinSend(50_000n))), [
      'btc.address-reuse',
      'btc.reorg-1conf',
      'btc.reorg-6conf',
      'btc.utxo-dust',
    ]);
    // A PSBT signature never carried them: it does not without facts either.
    assert.deepEqual(matrix(ids(bitcoinSend(50_000n, { action: 'sign_psbt' }))), []);
  });

  test('the Lightning alternative for small payments: sends and PSBT signatures that pay something', () => {
    const alt = (i: Intent) =>
      assessRisk(i, { tolerance: 'medium', catalog: RISK_CATALOG }).alternative?.protocol ?? null;
    assert.equal(alt(send({}, 9_999n)), 'lightning');
    assert.equal(alt(send({}, 10_000n)), null);
    assert.equal(alt(psbt({}, 9_999n)), 'lightning');
    assert.equal(alt(psbt({}, 0n)), null, 'a consolidation pays nobody');
  });
});

describe('signal conditions', () => {
  const below2: Condition = { type: 'signal', signal: 'depth', test: { type: 'below', than: 2 } };
  const unknownHolds: Condition = { ...below2, whenUnknown: true };
  const intent = bitcoinSend(1n);

  test('a test on a number; unknown holds only when the condition says so; a bad value never passes', () => {
    assert.equal(conditionHolds(below2, intent, { depth: 1 }), true);
    assert.equal(conditionHolds(below2, intent, { depth: 2 }), false);
    assert.equal(conditionHolds(below2, intent, {}), false);
    assert.equal(conditionHolds(unknownHolds, intent, {}), true);
    assert.equal(conditionHolds(unknownHolds, intent, undefined), true);
    for (const bad of ['1', Number.NaN, Number.NEGATIVE_INFINITY, null, true])
      assert.equal(conditionHolds(unknownHolds, intent, { depth: bad }), false, String(bad));
  });

  test('without a test: true only', () => {
    const flag: Condition = { type: 'signal', signal: 'flag' };
    assert.equal(conditionHolds(flag, intent, { flag: true }), true);
    for (const v of [false, 1, 'true']) assert.equal(conditionHolds(flag, intent, { flag: v }), false);
    // An inherited name is no signal given.
    assert.equal(conditionHolds({ type: 'signal', signal: 'toString', whenUnknown: true }, intent, {}), true);
  });
});
