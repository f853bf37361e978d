import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decision, LimitCheck } from '../../src/core/decision.ts';
import { nextPeriodStart, periodStart } from '../../src/policy/duration.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import type { LedgerEntry } from '../../src/policy/snapshot.ts';
import type { Policy } from '../../src/policy/types.ts';
import { btcIntent, entry, evmIntent, HOUR, policy, risk, snapshot } from './helpers.ts';

const at = (iso: string) => Date.parse(iso);

function decide(p: Policy, entries: LedgerEntry[], nowIso: string, amount = 1n): Decision {
  return evaluate(btcIntent(amount), risk(), snapshot(entries), p, new Date(nowIso));
}

function check(d: Decision, index = 0): LimitCheck {
  const c = d.trail[0]?.limits[index];
  assert.ok(c, 'a limit check');
  return c;
}

const countPolicy = (window: string, cap = 1) =>
  policy(`rules:\n  - { id: w, effect: allow, limits: [{ window: ${window}, max_count: ${cap} }] }\n`);

describe('rolling windows at their boundary', () => {
  const p = countPolicy('1h');
  const now = '2026-01-01T12:00:00.000Z';

  test('an entry exactly d old no longer counts', () => {
    const d = decide(p, [entry(1n, at(now) - HOUR)], now);
    assert.equal(d.outcome, 'allow');
    assert.equal(check(d).used, 0n);
  });

  test('an entry 1 ms younger still counts, and frees up 1 ms from now', () => {
    const d = decide(p, [entry(1n, at(now) - HOUR + 1)], now);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(check(d).used, 1n);
    assert.equal(check(d).freesAt, '2026-01-01T12:00:00.001Z');
    assert.equal(check(d).windowStart, '2026-01-01T11:00:00.000Z');
  });

  test('an entry dated after now counts (clock skew errs on the safe side)', () => {
    assert.equal(decide(p, [entry(1n, at(now) + 5000)], now).code, 'LIMIT_EXCEEDED');
  });
});

describe('calendar windows (UTC) at their boundary', () => {
  test('day: 23:59:59.999 is still the same day; 00:00 starts a new one', () => {
    const p = countPolicy('day');
    const e = [entry(1n, at('2026-03-10T00:00:00.000Z'))];
    const late = decide(p, e, '2026-03-10T23:59:59.999Z');
    assert.equal(late.code, 'LIMIT_EXCEEDED');
    assert.equal(check(late).windowStart, '2026-03-10T00:00:00.000Z');
    assert.equal(check(late).freesAt, '2026-03-11T00:00:00.000Z');
    assert.match(
      late.remedy ?? '',
      /^wait until 2026-03-11T00:00:00Z when the day count window of rule w starts over/,
    );
    assert.equal(decide(p, e, '2026-03-11T00:00:00.000Z').outcome, 'allow');
    // The last millisecond of the previous day does not count today.
    assert.equal(
      decide(p, [entry(1n, at('2026-03-09T23:59:59.999Z'))], '2026-03-10T00:00:00.000Z').outcome,
      'allow',
    );
  });

  test('week: ISO weeks start Monday 00:00 UTC (Sunday → Monday)', () => {
    const p = countPolicy('week');
    // 2026-01-01 is a Thursday; its ISO week began Monday 2025-12-29.
    const e = [entry(1n, at('2025-12-29T00:00:00.000Z'))];
    const sunday = decide(p, e, '2026-01-04T23:59:59.999Z');
    assert.equal(sunday.code, 'LIMIT_EXCEEDED');
    assert.equal(check(sunday).windowStart, '2025-12-29T00:00:00.000Z');
    assert.equal(check(sunday).freesAt, '2026-01-05T00:00:00.000Z');
    assert.equal(decide(p, e, '2026-01-05T00:00:00.000Z').outcome, 'allow');
    assert.equal(
      decide(p, [entry(1n, at('2025-12-28T23:59:59.999Z'))], '2025-12-29T00:00:00.000Z').outcome,
      'allow',
    );
    assert.equal(periodStart('week', at('2026-01-05T00:00:00.000Z')), at('2026-01-05T00:00:00.000Z'));
    assert.equal(periodStart('week', at('2026-01-04T23:59:59.999Z')), at('2025-12-29T00:00:00.000Z'));
  });

  test('month: February 29 of 2028 belongs to February; March 1 starts over', () => {
    const p = countPolicy('month');
    const e = [entry(1n, at('2028-02-01T00:00:00.000Z'))];
    const leapDay = decide(p, e, '2028-02-29T23:59:59.999Z');
    assert.equal(leapDay.code, 'LIMIT_EXCEEDED');
    assert.equal(check(leapDay).windowStart, '2028-02-01T00:00:00.000Z');
    assert.equal(check(leapDay).freesAt, '2028-03-01T00:00:00.000Z');
    assert.equal(decide(p, e, '2028-03-01T00:00:00.000Z').outcome, 'allow');
    const onLeapDay = [entry(1n, at('2028-02-29T12:00:00.000Z'))];
    assert.equal(decide(p, onLeapDay, '2028-02-29T13:00:00.000Z').code, 'LIMIT_EXCEEDED');
    assert.equal(decide(p, onLeapDay, '2028-03-01T00:00:00.000Z').outcome, 'allow');
    assert.equal(nextPeriodStart('month', at('2028-12-31T23:59:59.999Z')), at('2029-01-01T00:00:00.000Z'));
  });
});

describe('freesAt and remedies', () => {
  const now = '2026-01-01T12:00:00.000Z';
  const t = at(now);
  const minutes = (m: number) => m * 60_000;

  test('rolling value window: the earliest time enough old entries have aged out', () => {
    const p = policy('rules:\n  - { id: hourly, effect: allow, limits: [{ window: 1h, max_value: 100 }] }\n');
    const entries = [
      entry(30n, t - minutes(50)),
      entry(40n, t - minutes(40), { status: 'reserved' }),
      entry(20n, t - minutes(10)),
    ];
    assert.equal(decide(p, entries, now, 10n).outcome, 'allow');
    // 90 in use + 50 asked − 100 cap: 40 must leave; after 12:10 (30 left) not enough, after 12:20 (70 left) enough.
    const d = decide(p, entries, now, 50n);
    assert.deepEqual(
      { used: check(d).used, reserved: check(d).reserved, request: check(d).request, cap: check(d).cap },
      { used: 50n, reserved: 40n, request: 50n, cap: 100n },
    );
    assert.equal(check(d).freesAt, '2026-01-01T12:20:00.000Z');
    assert.equal(
      d.remedy,
      'wait until 2026-01-01T12:20:00Z when 40 sat of the 1h value window of rule hourly frees up, or lower the amount to at most 10 sat',
    );
    // Entries made at the same instant leave together.
    const same = [entry(50n, t - minutes(30)), entry(50n, t - minutes(30))];
    assert.equal(check(decide(p, same, now, 60n)).freesAt, '2026-01-01T12:30:00.000Z');
  });

  test('a request larger than the cap alone never frees up: freesAt null, remedy to lower the amount', () => {
    const p = policy('rules:\n  - { id: hourly, effect: allow, limits: [{ window: 1h, max_value: 100 }] }\n');
    const d = decide(p, [], now, 101n);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(check(d).freesAt, null);
    assert.equal(
      d.remedy,
      'lower the amount to at most 100 sat (the cap of the 1h value window of rule hourly), or ask an operator to raise that cap',
    );
    const cal = policy(
      'rules:\n  - { id: daily, effect: allow, limits: [{ window: day, max_value: 100 }] }\n',
    );
    assert.equal(check(decide(cal, [], now, 101n)).freesAt, null);
  });

  test('rolling count window', () => {
    const p = policy('rules:\n  - { id: rate, effect: allow, limits: [{ window: 1h, max_count: 2 }] }\n');
    const d = decide(p, [entry(1n, t - minutes(30)), entry(1n, t - minutes(20))], now);
    assert.equal(check(d).freesAt, '2026-01-01T12:30:00.000Z');
    assert.equal(
      d.remedy,
      'wait until 2026-01-01T12:30:00Z when 1 of the 2 operations in the 1h count window of rule rate has aged out, or ask an operator to raise its cap',
    );
  });

  test('with several windows exceeded, the remedy waits for the one that frees up last', () => {
    const p = policy(`rules:
  - { id: short, effect: allow, limits: [{ window: 1h, max_count: 1 }] }
  - { id: long, effect: allow, limits: [{ window: 24h, max_count: 1 }] }
`);
    const d = decide(p, [entry(1n, t - minutes(30))], now);
    assert.equal(d.decidingRule, 'long');
    assert.match(d.remedy ?? '', /^wait until 2026-01-02T11:30:00Z/);
    assert.equal(d.trail[0]?.limits[0]?.freesAt, '2026-01-01T12:30:00.000Z');
  });

  test('ETH amounts in reasons and remedies carry ETH and wei', () => {
    const p = policy(`rules:
  - { id: eth-daily, effect: allow, limits: [{ window: 24h, max_value: "100000000000000000" }] }
`);
    const e: LedgerEntry = {
      ...entry(80_000_000_000_000_000n, t - 23 * HOUR),
      protocol: 'evm',
      asset: 'evm:1',
      facets: { chain_id: 1 },
    };
    const d = evaluate(evmIntent(40_000_000_000_000_000n), risk(), snapshot([e]), p, new Date(now));
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(
      d.remedy,
      'wait until 2026-01-01T13:00:00Z when 0.02 ETH (20000000000000000 wei) of the 24h value window of rule eth-daily frees up, or lower the amount to at most 0.02 ETH (20000000000000000 wei)',
    );
  });
});
