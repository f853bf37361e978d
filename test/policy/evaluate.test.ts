import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decision } from '../../src/core/decision.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import type { LedgerSnapshot } from '../../src/policy/snapshot.ts';
import type { Policy } from '../../src/policy/types.ts';
import {
  BTC_ADDR,
  BTC_ADDR2,
  btcIntent,
  EVM_ADDR,
  EVM_ADDR2,
  entry,
  evmIntent,
  HOUR,
  lnIntent,
  NOW,
  nostrIntent,
  policy,
  risk,
  snapshot,
} from './helpers.ts';

const run = (p: Policy, intent = btcIntent(500n), snap: LedgerSnapshot = snapshot(), score = 2): Decision =>
  evaluate(intent, risk(score), snap, p, NOW);

describe('default deny and the trail', () => {
  test('no matching allow or hold rule → deny NO_MATCHING_RULE, no deciding rule, a remedy naming the rule needed', () => {
    const p = policy(`rules:
  - id: nostr
    match: { protocol: nostr }
    effect: allow
  - id: small
    match: { protocol: bitcoin, amount: { max: 100 } }
    effect: allow
`);
    const d = run(p, btcIntent(500n));
    assert.equal(d.outcome, 'deny');
    assert.equal(d.code, 'NO_MATCHING_RULE');
    assert.equal(d.decidingRule, null);
    assert.equal(d.hold, null);
    assert.match(d.reason, /no rule allows or holds sending 500 sat on Bitcoin/);
    assert.match(
      d.remedy ?? '',
      /add a rule that allows or holds it.*protocol: bitcoin, action: send, asset: "btc"/,
    );
    // Every rule, in order, with the first condition that failed.
    assert.deepEqual(
      d.trail.map((t) => [t.rule, t.index, t.matched, t.mismatch]),
      [
        ['nostr', 0, false, 'protocol bitcoin is not in [nostr]'],
        ['small', 1, false, 'amount 500 sat is above the maximum 100 sat'],
        ['(global)', -1, true, undefined],
      ],
    );
  });

  test('a policy whose only matching rule denies still denies; an allow needs a matching allow or hold rule', () => {
    const p = policy('rules:\n  - { id: only-evm, match: { protocol: evm }, effect: allow }\n');
    assert.equal(run(p, nostrIntent(1)).code, 'NO_MATCHING_RULE');
    assert.equal(run(p, evmIntent(1n)).outcome, 'allow');
  });

  test('the first failed condition is the mismatch, in a fixed order', () => {
    const p = policy(`rules:
  - { id: a, match: { protocol: nostr, kind: 7 }, effect: allow }
  - { id: b, match: { protocol: nostr, kind: [0, 3] }, effect: allow }
  - { id: c, match: { chain_id: 1 }, effect: allow }
  - { id: d, match: { asset: BTC, action: pay }, effect: allow }
`);
    const d = run(p, nostrIntent(1));
    assert.deepEqual(
      d.trail.slice(0, 4).map((t) => t.mismatch),
      [
        'kind 1 is not in [7]',
        'kind 1 is not in [0, 3]',
        'request has no EVM chain id',
        'action sign_event is not in [pay]',
      ],
    );
    const matched = run(p, lnIntent(5n));
    assert.equal(matched.trail[3]?.matched, true);
    assert.equal(matched.trail[3]?.effect, 'allow');
  });
});

describe('effects combine: deny beats hold beats allow, whatever the order', () => {
  const rules = {
    allow: '  - { id: allow-it, effect: allow }\n',
    hold: '  - { id: hold-it, effect: hold, approvals: 2 }\n',
    deny: '  - { id: deny-it, effect: deny, description: "nothing on Tuesdays" }\n',
  };
  const orders: (keyof typeof rules)[][] = [
    ['allow', 'hold', 'deny'],
    ['allow', 'deny', 'hold'],
    ['hold', 'allow', 'deny'],
    ['hold', 'deny', 'allow'],
    ['deny', 'allow', 'hold'],
    ['deny', 'hold', 'allow'],
  ];
  for (const order of orders) {
    test(`order ${order.join(', ')}`, () => {
      const all = run(policy(`rules:\n${order.map((k) => rules[k]).join('')}`));
      assert.equal(all.outcome, 'deny');
      assert.equal(all.code, 'POLICY_DENIED');
      assert.equal(all.decidingRule, 'deny-it');
      assert.match(all.reason, /rule deny-it \(nothing on Tuesdays\)/);
      const withoutDeny = order.filter((k) => k !== 'deny');
      const held = run(policy(`rules:\n${withoutDeny.map((k) => rules[k]).join('')}`));
      assert.equal(held.outcome, 'hold');
      assert.equal(held.code, 'HELD');
      assert.equal(held.decidingRule, 'hold-it');
      assert.equal(held.hold?.approvals, 2);
    });
  }

  test('allow alone allows, naming the first matching allow rule', () => {
    const d = run(
      policy(
        'rules:\n  - { id: x, match: { protocol: nostr }, effect: deny }\n  - { id: a, effect: allow }\n  - { id: b, effect: allow }\n',
      ),
    );
    assert.equal(d.outcome, 'allow');
    assert.equal(d.code, 'ALLOWED');
    assert.equal(d.decidingRule, 'a');
    assert.equal(d.remedy, null);
    assert.equal(d.hold, null);
  });

  test('holds combine: approvals = max, delay = max, reasons concatenated', () => {
    const d = run(
      policy(`rules:
  - { id: allow-all, effect: allow }
  - { id: two-ops, effect: hold, approvals: 2, delay: 1h, description: two operators look }
  - { id: slow, effect: hold, delay: 24h, description: a day to think }
`),
    );
    assert.equal(d.outcome, 'hold');
    assert.deepEqual(d.hold, {
      approvals: 2,
      delaySeconds: 86_400,
      reasons: ['two operators look', 'a day to think'],
    });
    assert.equal(d.decidingRule, 'two-ops');
    assert.match(d.reason, /needs 2 distinct operator approvals and a 24-hour delay/);
  });

  test('a delay-only hold needs no approval', () => {
    const d = run(policy('rules:\n  - { id: slow, effect: hold, delay: 15m }\n'));
    assert.deepEqual(d.hold, {
      approvals: 0,
      delaySeconds: 900,
      reasons: ['rule slow holds sending 500 sat on Bitcoin to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh'],
    });
    assert.match(d.reason, /released automatically unless an operator vetoes it/);
  });

  test('denials beat holds: an exceeded limit denies a held request', () => {
    const d = run(policy('rules:\n  - { id: h, effect: hold, max_per_tx: 100 }\n'), btcIntent(101n));
    assert.equal(d.outcome, 'deny');
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.hold, null);
  });
});

describe('limits: the strictest applies', () => {
  test('max_per_tx: the cap itself passes, one more is denied with the numbers and a remedy', () => {
    const p = policy('rules:\n  - { id: cap, effect: allow, max_per_tx: 1000 }\n');
    assert.equal(run(p, btcIntent(1000n)).outcome, 'allow');
    const d = run(p, btcIntent(1001n));
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.decidingRule, 'cap');
    assert.match(d.reason, /above the max_per_tx of rule cap \(1,000 sat\)/);
    assert.equal(
      d.remedy,
      'lower the amount to at most 1,000 sat, or ask an operator to raise max_per_tx of rule cap',
    );
    assert.deepEqual(d.trail[0]?.limits, [
      {
        limit: 'max_per_tx',
        measure: 'value',
        used: 0n,
        reserved: 0n,
        request: 1001n,
        cap: 1000n,
        ok: false,
        perDestination: null,
        windowStart: null,
        freesAt: null,
      },
    ]);
  });

  test('every matching rule counts: the stricter max_per_tx of a later, broader rule decides', () => {
    const p = policy(`rules:
  - { id: loose, match: { protocol: bitcoin }, effect: allow, max_per_tx: 10000 }
  - { id: strict, effect: allow, max_per_tx: 600 }
  - { id: unrelated, match: { protocol: nostr }, effect: allow, max_per_tx: 1 }
`);
    assert.equal(run(p, btcIntent(600n)).outcome, 'allow');
    const d = run(p, btcIntent(601n));
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.decidingRule, 'strict');
    assert.equal(d.trail[0]?.limits[0]?.ok, true);
    assert.equal(d.trail[1]?.limits[0]?.ok, false);
    assert.deepEqual(d.trail[2]?.limits, []);
  });

  test('windows of every matching rule: the smaller cap decides, with used, reserved, request, cap', () => {
    const p = policy(`rules:
  - { id: wide, effect: allow, limits: [{ window: 24h, max_value: 1000 }] }
  - { id: narrow, effect: allow, limits: [{ window: 24h, max_value: 500 }] }
`);
    const snap = snapshot([
      entry(300n, NOW.getTime() - HOUR),
      entry(100n, NOW.getTime() - 2 * HOUR, { status: 'reserved' }),
      entry(50n, NOW.getTime() - 3 * HOUR, { status: 'unknown' }),
    ]);
    assert.equal(run(p, btcIntent(50n), snap).outcome, 'allow');
    const d = run(p, btcIntent(51n), snap);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.decidingRule, 'narrow');
    const check = d.trail[1]?.limits[0];
    assert.deepEqual(
      {
        used: check?.used,
        reserved: check?.reserved,
        request: check?.request,
        cap: check?.cap,
        ok: check?.ok,
      },
      { used: 300n, reserved: 150n, request: 51n, cap: 500n, ok: false },
    );
    assert.equal(check?.windowStart, '2025-12-31T12:00:00.000Z');
    assert.equal(d.trail[0]?.limits[0]?.ok, true);
    assert.match(
      d.reason,
      /would bring the 24h value window of rule narrow to 501 sat, above its cap of 500 sat \(300 sat committed, 150 sat reserved\)/,
    );
  });

  test('max_fee_per_gas caps the EVM fee; it does not apply to other protocols', () => {
    const p = policy(`rules:
  - { id: gas, effect: allow, max_fee_per_gas: "200000000000" }
`);
    assert.equal(run(p, evmIntent(1n, { maxFeePerGas: 200_000_000_000n })).outcome, 'allow');
    const d = run(p, evmIntent(1n, { maxFeePerGas: 200_000_000_001n }));
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.trail[0]?.limits[0]?.limit, 'max_fee_per_gas');
    assert.match(
      d.reason,
      /max fee per gas 200\.000000001 gwei \(200000000001 wei\) is above the max_fee_per_gas of rule gas \(200 gwei/,
    );
    assert.match(d.remedy ?? '', /lower maxFeePerGas to at most 200 gwei/);
    const btc = run(p, btcIntent(1n));
    assert.equal(btc.outcome, 'allow');
    assert.deepEqual(btc.trail[0]?.notes, ['max_fee_per_gas does not apply: not an EVM request']);
  });

  test('a limit of a rule that does not match does not count', () => {
    const p = policy(`rules:
  - { id: all, effect: allow }
  - { id: big-only, match: { amount: { min: 1000 } }, effect: allow, limits: [{ window: 1h, max_count: 0 }] }
`);
    assert.equal(run(p, btcIntent(999n)).outcome, 'allow');
    assert.equal(run(p, btcIntent(1000n)).code, 'LIMIT_EXCEEDED');
  });
});

describe('windows count the right ledger entries', () => {
  const t = NOW.getTime();

  test('per-kind count window for Nostr: kind-1 signatures only', () => {
    const p = policy(`rules:
  - { id: notes, match: { protocol: nostr, kind: 1 }, effect: allow, limits: [{ window: 1h, max_count: 3 }] }
  - { id: reactions, match: { protocol: nostr, kind: 7 }, effect: allow }
`);
    const nostr = (kind: number, at: number) =>
      entry(0n, at, {
        protocol: 'nostr',
        action: 'sign_event',
        asset: 'nostr:event',
        destination: null,
        facets: { kind },
      });
    const reactions = Array.from({ length: 10 }, (_, i) => nostr(7, t - i * 1000));
    const two = snapshot([nostr(1, t - 1000), nostr(1, t - 2000), ...reactions]);
    const three = snapshot([nostr(1, t - 1000), nostr(1, t - 2000), nostr(1, t - 3000), ...reactions]);
    assert.equal(run(p, nostrIntent(1), two).outcome, 'allow');
    const d = run(p, nostrIntent(1), three);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.deepEqual([d.trail[0]?.limits[0]?.measure, d.trail[0]?.limits[0]?.used], ['count', 3n]);
    assert.match(d.reason, /would be operation 4 in the 1h count window of rule notes, whose cap is 3/);
    assert.equal(run(p, nostrIntent(7), three).outcome, 'allow', 'kind 7 has no window');
  });

  test('only the same asset, the same identity, and the rule’s other conditions count', () => {
    const p = policy(`rules:
  - { id: btc, match: { protocol: bitcoin }, effect: allow, limits: [{ window: 24h, max_value: 1000 }] }
  - { id: ln, match: { protocol: lightning }, effect: allow }
`);
    const snap = snapshot([
      entry(900n, t - HOUR), // counts
      entry(5000n, t - HOUR, { protocol: 'lightning', action: 'pay' }), // other protocol: not under rule btc
      entry(5000n, t - HOUR, { asset: 'evm:1', protocol: 'evm' }), // other asset
      entry(5000n, t - HOUR, { identity: 'someone-else' }), // other identity
    ]);
    assert.equal(run(p, btcIntent(100n), snap).outcome, 'allow');
    const d = run(p, btcIntent(101n), snap);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.trail[0]?.limits[0]?.used, 900n);
  });

  test('corrupt ledger entries never make room: a negative amount counts as 0, a time that is not a number as now', () => {
    const p = policy(
      'rules:\n  - { id: w, effect: allow, limits: [{ window: 1h, max_value: 100, max_count: 2 }] }\n',
    );
    const d = run(p, btcIntent(60n), snapshot([entry(-1000n, t - 1000), entry(50n, Number.NaN)]));
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.deepEqual(
      d.trail[0]?.limits.map((l) => [l.measure, l.used]),
      [
        ['value', 50n],
        ['count', 2n],
      ],
    );
  });

  test('the amount condition does not filter the window: big and small payments share it', () => {
    const p = policy(`rules:
  - { id: small, match: { amount: { max: 100 } }, effect: allow, limits: [{ window: 1h, max_value: 150 }] }
`);
    const d = run(p, btcIntent(60n), snapshot([entry(100n, t - 1000)]));
    assert.equal(d.code, 'LIMIT_EXCEEDED');
  });

  test('per_destination windows count each destination on its own; entries with no single destination count for all', () => {
    const p = policy(`rules:
  - { id: each, effect: allow, limits: [{ window: 24h, max_value: 1000, per_destination: true }] }
`);
    const snap = snapshot([entry(900n, t - HOUR, { destination: BTC_ADDR })]);
    assert.equal(run(p, btcIntent(500n, [BTC_ADDR2]), snap).outcome, 'allow');
    const d = run(p, btcIntent(500n, [BTC_ADDR]), snap);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.trail[0]?.limits[0]?.perDestination, BTC_ADDR);
    assert.match(d.reason, new RegExp(`window of rule each for ${BTC_ADDR}`));
    // A multi-output entry (destination null) counts against every destination's window.
    const multi = snapshot([entry(900n, t - HOUR, { destination: null })]);
    assert.equal(run(p, btcIntent(500n, [BTC_ADDR2]), multi).code, 'LIMIT_EXCEEDED');
    // A request to two destinations is checked against both windows.
    const both = run(p, btcIntent(500n, [BTC_ADDR2, BTC_ADDR]), snap);
    assert.equal(both.code, 'LIMIT_EXCEEDED');
    assert.deepEqual(
      both.trail[0]?.limits.map((l) => [l.perDestination, l.ok]),
      [
        [BTC_ADDR2, true],
        [BTC_ADDR, false],
      ],
    );
  });
});

describe('destinations', () => {
  test('global denylist → DESTINATION_DENIED, case-insensitive for EVM addresses', () => {
    const p = policy(`destinations: { deny: ["${EVM_ADDR.toUpperCase().replace('0X', '0x')}"] }
rules:
  - { id: all, effect: allow }
`);
    const d = run(p, evmIntent(1n, { to: EVM_ADDR }));
    assert.equal(d.code, 'DESTINATION_DENIED');
    assert.equal(d.decidingRule, null);
    assert.match(d.reason, /is on the global denylist/);
    assert.match(d.remedy ?? '', new RegExp(`remove ${EVM_ADDR} from the global denylist`));
    assert.equal(run(p, evmIntent(1n, { to: EVM_ADDR2 })).outcome, 'allow');
  });

  test('a matched rule’s denylist denies; an unmatched rule’s does not', () => {
    const p = policy(`rules:
  - { id: all, effect: allow }
  - { id: btc, match: { protocol: bitcoin }, effect: allow, denylist: ["${BTC_ADDR}"] }
  - { id: ln, match: { protocol: lightning }, effect: allow, denylist: ["${BTC_ADDR2}"] }
`);
    const d = run(p, btcIntent(1n, [BTC_ADDR]));
    assert.equal(d.code, 'DESTINATION_DENIED');
    assert.equal(d.decidingRule, 'btc');
    assert.equal(run(p, btcIntent(1n, [BTC_ADDR2])).outcome, 'allow');
  });

  test('an allowlist must contain every destination; the remedy names what to add', () => {
    const p = policy(`rules:
  - { id: payees, effect: allow, allowlist: ["${EVM_ADDR}"] }
`);
    assert.equal(run(p, evmIntent(1n, { to: EVM_ADDR.toUpperCase().replace('0X', '0x') })).outcome, 'allow');
    const d = run(p, evmIntent(1n, { to: EVM_ADDR2 }));
    assert.equal(d.code, 'DESTINATION_DENIED');
    assert.equal(d.decidingRule, 'payees');
    assert.equal(d.remedy, `ask an operator to add ${EVM_ADDR2} to the allowlist of rule payees`);
    const two = run(p, btcIntent(1n, [EVM_ADDR, BTC_ADDR]));
    assert.equal(two.code, 'DESTINATION_DENIED');
    assert.match(two.reason, new RegExp(BTC_ADDR));
    // Nothing is sent anywhere: an allowlist has nothing to refuse.
    assert.equal(run(p, nostrIntent(1)).outcome, 'allow');
  });

  test('the global allowlist', () => {
    const p = policy(`destinations: { allow: ["${BTC_ADDR}"] }
rules:
  - { id: all, effect: allow }
`);
    assert.equal(run(p, btcIntent(1n, [BTC_ADDR.toUpperCase()])).outcome, 'allow');
    const d = run(p, btcIntent(1n, [BTC_ADDR2]));
    assert.equal(d.code, 'DESTINATION_DENIED');
    assert.equal(
      d.remedy,
      `ask an operator to add ${BTC_ADDR2} to the global allowlist (destinations.allow)`,
    );
  });

  test('match.destination: allow and hold rules need every destination listed, deny rules any', () => {
    const p = policy(`rules:
  - { id: to-a, match: { destination: "${BTC_ADDR}" }, effect: allow }
`);
    assert.equal(run(p, btcIntent(1n, [BTC_ADDR])).outcome, 'allow');
    assert.equal(run(p, btcIntent(1n, [BTC_ADDR, BTC_ADDR2])).code, 'NO_MATCHING_RULE');
    const deny = policy(`rules:
  - { id: all, effect: allow }
  - { id: never-a, match: { destination: "${BTC_ADDR}" }, effect: deny }
`);
    assert.equal(run(deny, btcIntent(1n, [BTC_ADDR2, BTC_ADDR])).code, 'POLICY_DENIED');
    assert.equal(run(deny, btcIntent(1n, [BTC_ADDR2])).outcome, 'allow');
  });

  test('new_destination: hold → a destination never paid before is held for 1 approval', () => {
    const p = policy(`new_destination: hold
rules:
  - { id: all, effect: allow }
`);
    const d = run(p, evmIntent(1n, { to: EVM_ADDR }));
    assert.equal(d.outcome, 'hold');
    assert.equal(d.code, 'HELD');
    assert.deepEqual(d.hold, {
      approvals: 1,
      delaySeconds: 0,
      reasons: ['first payment to this destination'],
    });
    assert.equal(d.decidingRule, 'all');
    assert.ok(d.trail.at(-1)?.notes.some((n) => n.includes(EVM_ADDR)));
    const known = snapshot([], [EVM_ADDR.toUpperCase().replace('0X', '0x')]);
    assert.equal(run(p, evmIntent(1n, { to: EVM_ADDR }), known).outcome, 'allow');
    // Nothing is sent: nothing is new.
    assert.equal(run(p, nostrIntent(1)).outcome, 'allow');
  });

  test('new_destination: hold in a matching rule, combined with a delay-only hold', () => {
    const p = policy(`rules:
  - { id: evm, match: { protocol: evm }, effect: allow, new_destination: hold }
  - { id: slow, match: { amount: { min: 100 } }, effect: hold, delay: 1h }
`);
    const d = run(p, evmIntent(100n));
    assert.deepEqual(d.hold, {
      approvals: 1,
      delaySeconds: 3600,
      reasons: [
        'first payment to this destination',
        `rule slow holds sending 0.0000000000000001 ETH (100 wei) on chain 1 to ${EVM_ADDR}`,
      ],
    });
    assert.equal(d.decidingRule, 'evm');
    assert.equal(run(p, btcIntent(5n)).code, 'NO_MATCHING_RULE');
    assert.equal(run(p, evmIntent(5n), snapshot([], [EVM_ADDR])).outcome, 'allow');
  });
});

describe('risk', () => {
  test('above a matching rule’s max_score → RISK_TOO_HIGH naming the top risks; equal passes', () => {
    const p = policy(`risk: { tolerance: high }
rules:
  - { id: careful, effect: allow, risk: { max_score: 6 } }
`);
    assert.equal(run(p, btcIntent(1n), snapshot(), 6).outcome, 'allow');
    const withAlternative = risk(8, {
      alternative: { protocol: 'lightning', reason: 'Amount too small for efficient Bitcoin tx' },
    });
    const d = evaluate(btcIntent(1n), withAlternative, snapshot(), p, NOW);
    assert.equal(d.code, 'RISK_TOO_HIGH');
    assert.equal(d.decidingRule, 'careful');
    assert.match(
      d.reason,
      /risk score 8 is above the maximum of 6 set by rule careful; top risks: Top test risk \(8\)/,
    );
    assert.equal(
      d.remedy,
      'ask an operator to accept the risk (raise risk.max_score of rule careful to at least 8), lower the amount, or use lightning instead (Amount too small for efficient Bitcoin tx)',
    );
    assert.equal(d.risk, withAlternative);
  });

  test('the global cap: max_score when given, else the tolerance threshold (low 3, medium 6, high 12)', () => {
    const body = 'rules:\n  - { id: all, effect: allow }\n';
    assert.equal(
      run(policy(`risk: { tolerance: low }\n${body}`), btcIntent(1n), snapshot(), 3).outcome,
      'allow',
    );
    const low = run(policy(`risk: { tolerance: low }\n${body}`), btcIntent(1n), snapshot(), 4);
    assert.equal(low.code, 'RISK_TOO_HIGH');
    assert.equal(low.decidingRule, null);
    assert.match(low.remedy ?? '', /raise the global risk\.max_score to at least 4/);
    assert.equal(run(policy(body), btcIntent(1n), snapshot(), 7).code, 'RISK_TOO_HIGH');
    assert.equal(
      run(policy(`risk: { tolerance: high }\n${body}`), btcIntent(1n), snapshot(), 12).outcome,
      'allow',
    );
    assert.equal(
      run(policy(`risk: { tolerance: low, max_score: 9 }\n${body}`), btcIntent(1n), snapshot(), 9).outcome,
      'allow',
    );
    assert.equal(
      run(policy(`risk: { max_score: 9 }\n${body}`), btcIntent(1n), snapshot(), 10).code,
      'RISK_TOO_HIGH',
    );
  });
});

describe('evaluate returns', () => {
  test('decision.risk is the risk argument itself', () => {
    const r = risk(1);
    assert.equal(
      evaluate(btcIntent(1n), r, snapshot(), policy('rules:\n  - { id: a, effect: allow }\n'), NOW).risk,
      r,
    );
  });

  test('refuses a negative amount or an invalid time instead of deciding', () => {
    const p = policy('rules:\n  - { id: a, effect: allow }\n');
    assert.throws(() => evaluate(btcIntent(-1n), risk(), snapshot(), p, NOW), /non-negative/);
    assert.throws(() => evaluate(btcIntent(1n), risk(), snapshot(), p, new Date(Number.NaN)), /valid time/);
  });
});
