import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWardenError } from '../../src/core/errors.ts';
import type { Intent } from '../../src/core/intent.ts';
import { type RiskTolerance, TOLERANCE_THRESHOLDS } from '../../src/core/risk.ts';
import { DM_KINDS, IDENTITY_REDIRECTION_KINDS } from '../../src/protocols/nostr/risks.ts';
import { riskCatalogEntry as catalogEntry, RISK_CATALOG } from '../../src/protocols/risk-catalog.ts';
import { assessRisk, type MonitorSignals, toleranceFromPolicy } from '../../src/risk/assess.ts';
import { priorityOf, riskScore } from '../../src/risk/score.ts';
import { toleranceThreshold } from '../../src/risk/tolerance.ts';
import { bitcoinSend, evmCall, evmCallUnknownFunction, evmSend, lightningPay, nostrSign } from './intents.ts';

const assess = (intent: Intent, tolerance: RiskTolerance = 'medium', signals?: MonitorSignals) =>
  assessRisk(
    intent,
    signals === undefined
      ? { tolerance, catalog: RISK_CATALOG }
      : { tolerance, catalog: RISK_CATALOG, signals },
  );
const risk = (intent: Intent, id: string, signals?: MonitorSignals) => {
  const r = assess(intent, 'medium', signals).risks.find((x) => x.id === id);
  assert.ok(r, `${id} does not apply`);
  return r;
};
const ids = (intent: Intent, signals?: MonitorSignals) =>
  assess(intent, 'medium', signals).risks.map((r) => r.id);

test('score is severity × likelihood; priority boundaries 2 low, 3 medium, 6 high, 12 critical', () => {
  assert.equal(riskScore(4, 3), 12);
  assert.equal(riskScore(1, 1), 1);
  assert.equal(riskScore(4, 4), 16);
  const cases: [number, string][] = [
    [1, 'low'],
    [2, 'low'],
    [3, 'medium'],
    [4, 'medium'],
    [5, 'medium'],
    [6, 'high'],
    [9, 'high'],
    [11, 'high'],
    [12, 'critical'],
    [16, 'critical'],
  ];
  for (const [score, priority] of cases) assert.equal(priorityOf(score), priority, `score ${score}`);
});

test('tolerance thresholds low 3, medium 6, high 12', () => {
  assert.equal(toleranceThreshold('low'), 3);
  assert.equal(toleranceThreshold('medium'), 6);
  assert.equal(toleranceThreshold('high'), 12);
  assert.throws(
    () => toleranceThreshold('extreme' as RiskTolerance),
    (e) => isWardenError(e, 'INVALID_ARGUMENT'),
  );
});

test('a score equal to the threshold is within tolerance, one above is not', () => {
  // nostr kind 1: highest risks are Medium × Possible and High × Medium = 6.
  const note = nostrSign(1);
  assert.equal(assess(note, 'medium').score, 6);
  assert.equal(assess(note, 'medium').withinTolerance, true);
  assert.equal(assess(note, 'low').withinTolerance, false);
  assert.equal(assess(note, 'low').threshold, 3);
  // a token approval: Critical × Possible = 12.
  const approval = evmCall('0x095ea7b3');
  assert.equal(assess(approval, 'high').score, 12);
  assert.equal(assess(approval, 'high').withinTolerance, true);
  assert.equal(assess(approval, 'medium').withinTolerance, false);
  // profile update: 9, above medium, within high.
  assert.equal(assess(nostrSign(0), 'medium').withinTolerance, false);
  assert.equal(assess(nostrSign(0), 'high').withinTolerance, true);
  for (const t of ['low', 'medium', 'high'] as const) {
    const a = assess(note, t);
    assert.equal(a.tolerance, t);
    assert.equal(a.threshold, TOLERANCE_THRESHOLDS[t]);
  }
});

test('toleranceFromPolicy: low | medium | high, medium by default, anything else refused', () => {
  assert.equal(toleranceFromPolicy(undefined), 'medium');
  assert.equal(toleranceFromPolicy(null), 'medium');
  for (const t of ['low', 'medium', 'high'] as const) assert.equal(toleranceFromPolicy(t), t);
  for (const bad of ['', 'HIGH', 'hgih', ' low', 3, true, {}, ['low']]) {
    assert.throws(
      () => toleranceFromPolicy(bad),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
      String(bad),
    );
  }
});

test('bitcoin amounts: +1 above 10,000,000 sat, +2 above 100,000,000 sat, targeted risks only', () => {
  const cases: [bigint, number, number][] = [
    // amount, wrong-address likelihood, assessment score
    [50_000n, 1, 6],
    [10_000_000n, 1, 6],
    [10_000_001n, 2, 8],
    [100_000_000n, 2, 8],
    [100_000_001n, 3, 12],
    [2_100_000_000_000_000n, 3, 12],
  ];
  for (const [amount, likelihood, score] of cases) {
    const a = assess(bitcoinSend(amount));
    assert.equal(a.score, score, `score at ${amount}`);
    const wrong = a.risks.find((r) => r.id === 'btc.wrong-address');
    assert.equal(wrong?.likelihood, likelihood, `wrong-address at ${amount}`);
    assert.equal(wrong?.baseLikelihood, 1);
    assert.equal(wrong?.adjustments.length, likelihood > 1 ? 1 : 0);
    // a Medium-severity risk is never raised by the amount
    assert.equal(a.risks.find((r) => r.id === 'btc.address-reuse')?.likelihood, 3);
  }
  const adj = risk(bitcoinSend(100_000_001n), 'btc.seed-exposure').adjustments;
  assert.deepEqual(adj, ['amount 100000001 sat > 100000000 sat (1 BTC): likelihood +2 (targeted risk)']);
  assert.match(
    risk(bitcoinSend(10_000_001n), 'btc.seed-exposure').adjustments[0] ?? '',
    /> 10000000 sat.*\+1/,
  );
});

test('lightning amounts are sat with the same thresholds; likelihood is capped at 4', () => {
  assert.equal(risk(lightningPay(10_000_000n), 'ln.hot-wallet-compromise').likelihood, 2);
  assert.equal(risk(lightningPay(10_000_001n), 'ln.hot-wallet-compromise').likelihood, 3);
  const big = assess(lightningPay(100_000_001n));
  const hot = big.risks.find((r) => r.id === 'ln.hot-wallet-compromise');
  assert.equal(hot?.likelihood, 4);
  assert.equal(hot?.score, 16);
  assert.equal(big.score, 16);
  assert.equal(big.priority, 'critical');
  // 0-conf double-spend (3) + 2 = 5 → capped at 4, and the cap is recorded.
  const ds = risk(bitcoinSend(100_000_001n), 'btc.double-spend-0conf', { spendsUnconfirmed: true });
  assert.equal(ds.baseLikelihood, 3);
  assert.equal(ds.likelihood, 4);
  assert.equal(ds.score, 12);
  assert.ok(ds.adjustments.includes('likelihood capped at 4 (likely)'));
  // amount and signal together, still capped.
  const fc = risk(lightningPay(100_000_001n), 'ln.force-close-high-fees', { highFees: true });
  assert.equal(fc.likelihood, 4);
  assert.equal(fc.adjustments.length, 3);
});

test('evm native amounts: +1 above 10^18 wei, +2 above 10^19 wei; token amounts are not priced', () => {
  const ETH = 10n ** 18n;
  const cases: [bigint, number][] = [
    [ETH / 10n, 2],
    [ETH, 2],
    [ETH + 1n, 3],
    [10n * ETH, 3],
    [10n * ETH + 1n, 4],
  ];
  for (const [amount, likelihood] of cases) {
    const r = risk(evmSend(amount), 'evm.wrong-chain-replay');
    assert.equal(r.likelihood, likelihood, `at ${amount} wei`);
  }
  assert.match(risk(evmSend(ETH + 1n), 'evm.wrong-chain-replay').adjustments[0] ?? '', /wei.*1 ETH.*\+1/);
  assert.equal(assess(evmSend(ETH)).score, 6);
  assert.equal(assess(evmSend(10n * ETH + 1n)).score, 12);
  // a token transfer of 10^30 base units: no amount bump
  const transfer = risk(evmCall('0xa9059cbb', 10n ** 30n), 'evm.wrong-address');
  assert.equal(transfer.likelihood, 1);
  assert.deepEqual(transfer.adjustments, []);
});

test('safer alternative: Lightning under 10,000 sat on-chain, on-chain over 10,000,000 sat on Lightning', () => {
  assert.equal(assess(bitcoinSend(9_999n)).alternative?.protocol, 'lightning');
  assert.equal(assess(bitcoinSend(1n)).alternative?.protocol, 'lightning');
  assert.equal(assess(bitcoinSend(10_000n)).alternative, null);
  assert.equal(assess(bitcoinSend(200_000_000n)).alternative, null);
  assert.equal(assess(lightningPay(10_000_000n)).alternative, null);
  assert.equal(assess(lightningPay(10_000_001n)).alternative?.protocol, 'bitcoin');
  assert.equal(assess(lightningPay(1n)).alternative, null);
  assert.equal(assess(evmSend(1n)).alternative, null);
  assert.equal(assess(nostrSign(1)).alternative, null);
  assert.ok((assess(lightningPay(10_000_001n)).alternative?.reason ?? '').length > 0);
});

test('nostr: identity-redirecting kinds carry a high-severity redirection risk, kind 1 does not', () => {
  for (const kind of IDENTITY_REDIRECTION_KINDS) {
    const a = assess(nostrSign(kind));
    const redirect = a.risks.filter((r) => r.id.startsWith('nostr.identity-redirection.'));
    assert.equal(redirect.length, 1, `kind ${kind}`);
    assert.equal(redirect[0]?.severity, 3, `kind ${kind}`);
    assert.ok(a.score >= 9, `kind ${kind}`);
    assert.equal(a.withinTolerance, false, `kind ${kind} should be held at medium tolerance`);
  }
  for (const kind of [0, 3, 10002, 27235, 9734])
    assert.ok(IDENTITY_REDIRECTION_KINDS.includes(kind), `kind ${kind}`);
  for (const kind of [1, 7, 30023]) {
    const a = assess(nostrSign(kind));
    assert.ok(!a.risks.some((r) => r.id.startsWith('nostr.identity-redirection')), `kind ${kind}`);
    assert.equal(a.withinTolerance, true, `kind ${kind}`);
  }
  // every signature exposes the identity: impersonation and key theft always apply
  for (const kind of [1, 0, 4]) {
    assert.ok(ids(nostrSign(kind)).includes('nostr.impersonation'));
    assert.ok(ids(nostrSign(kind)).includes('nostr.key-theft'));
  }
});

test('nostr: DMs carry interception, NIP-04 also metadata exposure; unknown kind assumes the worst', () => {
  for (const kind of DM_KINDS)
    assert.ok(ids(nostrSign(kind)).includes('nostr.dm-interception'), `kind ${kind}`);
  assert.ok(ids(nostrSign(4)).includes('nostr.dm-metadata-nip04'));
  assert.ok(!ids(nostrSign(1059)).includes('nostr.dm-metadata-nip04'));
  assert.ok(!ids(nostrSign(1)).includes('nostr.dm-interception'));
  const unknown = ids(nostrSign(undefined));
  assert.ok(unknown.includes('nostr.identity-redirection.profile'));
  assert.ok(unknown.includes('nostr.dm-interception'));
});

test('evm: approvals are critical, other calls are reviewed, plain sends carry neither', () => {
  for (const sel of ['0x095ea7b3', '0xA22CB465', '0xd505accf']) {
    const r = risk(evmCall(sel), 'evm.token-approval');
    assert.equal(r.score, 12);
    assert.equal(r.priority, 'critical');
  }
  const transfer = ids(evmCall('0xa9059cbb'));
  assert.ok(transfer.includes('evm.contract-call'));
  assert.ok(!transfer.includes('evm.token-approval'));
  assert.ok(!ids(evmSend(1n)).includes('evm.contract-call'));
  // a call whose selector is unknown to the intent is assumed to be an approval
  assert.ok(ids(evmCallUnknownFunction()).includes('evm.token-approval'));
  // a call whose intent says it calls no function (null) is not
  assert.ok(!ids(evmCall(null)).includes('evm.token-approval'));
  // a zero-value send risks no wrong-address loss
  assert.ok(!ids(evmSend(0n)).includes('evm.wrong-address'));
  assert.ok(ids(evmSend(1n)).includes('evm.wrong-address'));
});

test('monitor signals raise the documented likelihoods; bad values are ignored', () => {
  const btc = bitcoinSend(50_000n);
  assert.equal(risk(btc, 'btc.fee-overpayment').likelihood, 2);
  assert.equal(risk(btc, 'btc.fee-overpayment', { highFees: true }).likelihood, 3);
  assert.equal(risk(btc, 'btc.fee-overpayment', { highFees: true, mempoolCongested: true }).likelihood, 4);
  assert.equal(risk(evmSend(1n), 'evm.fee-overpayment', { highFees: true }).likelihood, 4);
  assert.equal(risk(lightningPay(1n), 'ln.force-close-high-fees', { highFees: true }).likelihood, 3);
  assert.ok(!ids(btc).includes('btc.double-spend-0conf'));
  assert.equal(risk(btc, 'btc.double-spend-0conf', { spendsUnconfirmed: true }).score, 9);

  const note = nostrSign(1);
  assert.equal(risk(note, 'nostr.relay-data-loss', { relayHealthyCount: 3 }).likelihood, 3);
  assert.equal(risk(note, 'nostr.relay-data-loss', { relayHealthyCount: 2 }).likelihood, 4);
  assert.equal(risk(note, 'nostr.relay-unavailable', { relayHealthyCount: 2 }).likelihood, 3);
  assert.equal(risk(note, 'nostr.relay-unavailable', { relayHealthyCount: 0 }).likelihood, 4);
  assert.equal(assess(note, 'medium', { relayHealthyCount: 1 }).score, 8);

  const pay = lightningPay(1_000n);
  assert.equal(risk(pay, 'ln.channel-depletion', { channelLocalRatio: 0.1 }).likelihood, 2);
  assert.equal(risk(pay, 'ln.channel-depletion', { channelLocalRatio: 0.09 }).likelihood, 3);
  assert.equal(risk(pay, 'ln.channel-exhaustion', { channelLocalRatio: 0.05 }).likelihood, 4);
  assert.equal(risk(pay, 'ln.counterparty-offline', { recentFailures: 2 }).likelihood, 3);
  assert.equal(risk(pay, 'ln.counterparty-offline', { recentFailures: 3 }).likelihood, 4);
  assert.equal(risk(btc, 'btc.node-sync-failure', { recentFailures: 5 }).likelihood, 2);

  const ignored = {
    highFees: 'yes',
    relayHealthyCount: Number.NaN,
    channelLocalRatio: Number.NEGATIVE_INFINITY,
    recentFailures: '9',
  } as unknown as MonitorSignals;
  for (const intent of [btc, note, pay]) assert.deepEqual(assess(intent, 'medium', ignored), assess(intent));
  const adj = risk(note, 'nostr.relay-data-loss', { relayHealthyCount: 2 }).adjustments;
  assert.deepEqual(adj, ['monitor: 2 healthy relays (< 3), likelihood +1']);
});

test('recommendations: mitigations of high and critical risks, highest score first, once each', () => {
  const a = assess(lightningPay(100_000_001n), 'medium', { highFees: true });
  const expected = a.risks
    .filter((r) => r.priority === 'high' || r.priority === 'critical')
    .map((r) => r.mitigation);
  assert.deepEqual(a.recommendations, [...new Set(expected)]);
  assert.equal(a.recommendations[0], catalogEntry('ln.hot-wallet-compromise')?.mitigation);
  // low-score risks do not recommend anything
  assert.ok(!a.recommendations.includes(catalogEntry('ln.payment-tracking')?.mitigation ?? '?'));
  // risks are listed highest score first
  const scores = a.risks.map((r) => r.score);
  assert.deepEqual(
    scores,
    [...scores].sort((x, y) => y - x),
  );
  // a kind-1 note: 6 is high, so its mitigations are recommended; medium ones are not
  const note = assess(nostrSign(1));
  assert.ok(note.recommendations.includes('Publish to 5+ relays'));
  assert.ok(!note.recommendations.includes('Multiple relays'));
});

test('the assessment does not alias the catalog or the signals', () => {
  const a = assess(nostrSign(1));
  a.risks[0]?.adjustments.push('tampered');
  a.recommendations.push('tampered');
  const b = assess(nostrSign(1));
  assert.ok(!b.risks[0]?.adjustments.includes('tampered'));
  assert.ok(!b.recommendations.includes('tampered'));
});
