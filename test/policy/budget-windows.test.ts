import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Intent } from '../../src/core/intent.ts';
import { BudgetWindows } from '../../src/policy/budget-windows.ts';
import { nextPeriodStart } from '../../src/policy/duration.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import {
  type LedgerEntry,
  type LedgerEntryStatus,
  ledgerEntryFromIntent,
  ledgerTime,
  snapshotHorizon,
} from '../../src/policy/snapshot.ts';
import type { Policy } from '../../src/policy/types.ts';
import { POLICY_LANGUAGE } from '../../src/protocols/policy-language.ts';
import { BTC_ADDR, BTC_ADDR2, btcIntent, DAY, HOUR, lnIntent, nostrIntent, risk } from './helpers.ts';

const RUNS = Number(process.env.POLICY_PROPERTY_RUNS ?? 150);
const DESTS = [BTC_ADDR, BTC_ADDR2, 'bc1qc7slrfxkknqcq2jevvvkdgvrt8080852dfjewde450xdlk4ugp7szw5tk9'];
const KINDS = [1, 3, 7];
const ROLLING = { '1s': 1000, '30s': 30_000, '15m': 900_000, '1h': HOUR, '24h': DAY, '7d': 7 * DAY } as const;
const WINDOWS = [...Object.keys(ROLLING), 'day', 'week', 'month'];

// ── Policies: several rules with different conditions and windows ────────────────────────────────

const capArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 6000n }),
  // Values past 2^53 and 2^85: the columns keep them in two floats, or beside them.
  fc.bigInt({ min: 2n ** 60n, max: 2n ** 62n }),
  fc.bigInt({ min: 2n ** 90n, max: 2n ** 92n }),
);
const limitArb = fc
  .record(
    {
      window: fc.constantFrom(...WINDOWS),
      max_value: capArb.map(String),
      max_count: fc.integer({ min: 0, max: 8 }),
      per_destination: fc.boolean(),
    },
    { requiredKeys: ['window'] },
  )
  .filter((l) => l.max_value !== undefined || l.max_count !== undefined);

const ruleArb = fc.record(
  {
    effect: fc.constantFrom('allow', 'allow', 'hold', 'deny'),
    match: fc.record(
      {
        protocol: fc.subarray(['bitcoin', 'lightning', 'nostr'], { minLength: 1 }),
        kind: fc.subarray(KINDS, { minLength: 1 }),
        destination: fc.subarray(DESTS, { minLength: 1 }),
        amount: fc.record({ max: fc.integer({ min: 0, max: 3000 }) }),
      },
      { requiredKeys: [] },
    ),
    max_per_tx: fc.integer({ min: 0, max: 5000 }),
    limits: fc.array(limitArb, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['effect', 'limits'] },
);

const policyArb: fc.Arbitrary<Policy> = fc.array(ruleArb, { minLength: 1, maxLength: 4 }).map((rules) =>
  POLICY_LANGUAGE.fromData({
    version: 1,
    name: 'generated',
    risk: { tolerance: 'high' },
    rules: rules.map((r, i) => ({ id: `r${i}`, ...r })),
  }),
);

// ── Requests and entries of one budget (asset btc or nostr:event) ─────────────────────────────────

const amountArb = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: 3000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 60n, max: 2n ** 61n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 90n, max: 2n ** 91n }) },
);
const feeArb = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 500n }));
const destsArb = fc.oneof(
  fc.constantFrom(...DESTS).map((d) => [d]),
  // Several outputs: the entry has no single destination and counts for every one.
  fc.subarray(DESTS, { minLength: 2 }),
  // Upper case: the same destination, spelled otherwise.
  fc.constantFrom(...DESTS).map((d) => [d.toUpperCase()]),
);

function intentArb(asset: 'btc' | 'nostr:event'): fc.Arbitrary<Intent> {
  if (asset === 'nostr:event') return fc.constantFrom(...KINDS).map(nostrIntent);
  return fc.tuple(fc.boolean(), amountArb, destsArb, feeArb).map(([ln, amount, dests, maxFee]) => ({
    ...(ln ? lnIntent(amount, dests) : btcIntent(amount, dests)),
    maxFee,
  }));
}

type Op =
  | { kind: 'reserve'; intent: Intent }
  | { kind: 'booked'; intent: Intent; age: number; status: LedgerEntryStatus }
  | {
      kind: 'settle';
      pick: number;
      status: 'committed' | 'released' | 'unknown';
      fee: bigint | null;
      moved: boolean;
    }
  | { kind: 'fee'; pick: number; fee: bigint }
  | { kind: 'restamp'; pick: number }
  | { kind: 'foreign'; intent: Intent }
  | { kind: 'advance'; step: Step }
  | { kind: 'policy'; which: number }
  | { kind: 'check'; intent: Intent };

type Step = { to: 'ms'; ms: number } | { to: 'edge'; window: string; delta: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ to: fc.constant('ms' as const), ms: fc.integer({ min: 0, max: 2 * HOUR }) }),
  fc.record({ to: fc.constant('ms' as const), ms: fc.integer({ min: -3 * HOUR, max: -1 }) }),
  // Exactly at a window's edge (an entry made d ago, a period's start), and 1 ms either side.
  fc.record({
    to: fc.constant('edge' as const),
    window: fc.constantFrom(...WINDOWS),
    delta: fc.constantFrom(-1, 0, 1),
  }),
);

function opArb(asset: 'btc' | 'nostr:event'): fc.Arbitrary<Op> {
  const intent = intentArb(asset);
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('reserve' as const), intent }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('booked' as const),
        intent,
        age: fc.oneof(
          fc.integer({ min: -60_000, max: 2 * HOUR }),
          fc.integer({ min: 0, max: 40 * DAY }),
          fc.constantFrom(...Object.values(ROLLING)),
        ),
        status: fc.constantFrom(
          'committed' as const,
          'committed' as const,
          'reserved' as const,
          'unknown' as const,
        ),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        pick: fc.nat(),
        status: fc.constantFrom(
          'committed' as const,
          'committed' as const,
          'released' as const,
          'unknown' as const,
        ),
        fee: fc.option(fc.bigInt({ min: 0n, max: 300n })),
        moved: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('fee' as const), pick: fc.nat(), fee: feeArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restamp' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('foreign' as const),
        intent: intentArb(asset === 'btc' ? 'nostr:event' : 'btc'),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), step: stepArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('policy' as const), which: fc.nat() }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('check' as const), intent }) },
  );
}

function stepped(now: number, step: Step): number {
  if (step.to === 'ms') return now + step.ms;
  const rolling = ROLLING[step.window as keyof typeof ROLLING];
  // A rolling edge: d after now (an entry made now is then exactly d old); a calendar edge: the next period.
  const edge =
    rolling === undefined ? nextPeriodStart(step.window as 'day' | 'week' | 'month', now) : now + rolling;
  return edge + step.delta;
}

const toJson = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

/**
 * Runs the ops on a ledger model and on BudgetWindows side by side; every check compares the whole
 * Decision with the reference evaluator over the model's entries as the ledger presents them.
 * `forget`: the budget forgets what the policy's windows no longer reach, and is rebuilt (as the
 * ledger cache reloads) when the clock goes back or a policy reaches further back.
 */
function simulate(
  asset: 'btc' | 'nostr:event',
  policies: readonly Policy[],
  ops: readonly Op[],
  start: string,
  forget: boolean,
): void {
  let now = Date.parse(start);
  let policy = policies[0]!;
  /** The model: the entries the ledger holds, as booked (times not yet as presented). */
  const ledger = new Map<string, LedgerEntry>();
  const rebuild = () => {
    const b = new BudgetWindows('agent-1', asset);
    for (const [key, e] of ledger) b.put(key, e);
    return b;
  };
  let budget = rebuild();
  /** Entries of another budget or identity: the reference sees them too, and skips them. */
  const foreign: LedgerEntry[] = [];
  let n = 0;
  const pickOpen = (pick: number) => {
    const open = [...ledger].filter(([, e]) => e.status !== 'committed');
    return open.length === 0 ? undefined : open[pick % open.length];
  };
  const put = (key: string, e: LedgerEntry) => {
    ledger.set(key, e);
    budget.put(key, e);
  };
  for (const op of ops) {
    if (op.kind === 'reserve') put(`k${n++}`, ledgerEntryFromIntent(op.intent, now, 'reserved'));
    else if (op.kind === 'booked') put(`k${n++}`, ledgerEntryFromIntent(op.intent, now - op.age, op.status));
    else if (op.kind === 'foreign') {
      // Another budget's entry and another identity's: never counted here.
      foreign.push(ledgerEntryFromIntent(op.intent, now, 'committed'));
      foreign.push({ ...ledgerEntryFromIntent(op.intent, now, 'committed'), asset, identity: 'other' });
      for (const e of foreign.slice(-2)) budget.put(`f${n++}`, e);
    } else if (op.kind === 'settle') {
      const picked = pickOpen(op.pick);
      if (picked === undefined) continue;
      const [key, e] = picked;
      if (op.status === 'released') {
        ledger.delete(key);
        budget.remove(key);
      } else {
        // A commit keeps the reservation's time: an old one lands in the middle of the order.
        const spent =
          op.status === 'committed' ? { fee: op.fee ?? e.fee, amount: op.moved ? e.amount : 0n } : {};
        put(key, { ...e, ...spent, status: op.status });
      }
    } else if (op.kind === 'fee' || op.kind === 'restamp') {
      const all = [...ledger];
      const picked = all[op.pick % Math.max(all.length, 1)];
      if (picked === undefined) continue;
      const [key, e] = picked;
      put(key, op.kind === 'fee' ? { ...e, fee: op.fee } : { ...e, at: now });
    } else if (op.kind === 'advance') {
      now = stepped(now, op.step);
    } else if (op.kind === 'policy') {
      policy = policies[op.which % policies.length]!;
    } else {
      const since = snapshotHorizon(policy, new Date(now)).getTime();
      // A clock gone back, or a policy reaching further back: rebuilt, as the cache reloads.
      if (forget && since < budget.since) budget = rebuild();
      const view = budget.at(now, forget ? since : Number.NEGATIVE_INFINITY);
      const entries = [...ledger.values(), ...foreign].map((e) => ({
        ...e,
        at: ledgerTime(e.status, e.at, now),
      }));
      const known = new Set([DESTS[0]!]);
      const at = new Date(now);
      const expected = evaluate(op.intent, risk(), { entries, knownDestinations: known }, policy, at);
      const actual = evaluate(op.intent, risk(), { windows: view, knownDestinations: known }, policy, at);
      assert.equal(toJson(actual), toJson(expected));
    }
  }
}

const startArb = fc.constantFrom(
  '2026-02-28T22:59:59.000Z',
  '2026-03-01T00:00:00.000Z',
  '2026-01-04T23:30:00.000Z',
);

describe('running budget windows', () => {
  for (const asset of ['btc', 'nostr:event'] as const) {
    test(`every decision equals the reference evaluator over the same entries (${asset})`, () => {
      fc.assert(
        fc.property(
          fc.array(policyArb, { minLength: 1, maxLength: 2 }),
          fc.array(opArb(asset), { minLength: 10, maxLength: 80, size: 'max' }),
          startArb,
          fc.boolean(),
          (policies, ops, start, forget) => simulate(asset, policies, ops, start, forget),
        ),
        { numRuns: RUNS },
      );
    });
  }

  test('with thousands of entries (sequences in many chunks, old commits landing in the middle)', () => {
    const bulk = fc.array(
      fc.record({
        kind: fc.constant('booked' as const),
        intent: intentArb('btc'),
        age: fc.integer({ min: -1000, max: 3 * HOUR }),
        status: fc.constantFrom(
          'committed' as const,
          'committed' as const,
          'committed' as const,
          'reserved' as const,
        ),
      }),
      { minLength: 1500, maxLength: 3000 },
    );
    fc.assert(
      fc.property(
        fc.array(policyArb, { minLength: 1, maxLength: 2 }),
        bulk,
        fc.array(opArb('btc'), { minLength: 10, maxLength: 40, size: 'max' }),
        startArb,
        fc.boolean(),
        (policies, booked, ops, start, forget) =>
          simulate('btc', policies, [...booked, ...ops], start, forget),
      ),
      { numRuns: Math.max(5, Math.floor(RUNS / 15)) },
    );
  });

  test('a view answers only for its budget, its time, and while the budget is unchanged', () => {
    const p = POLICY_LANGUAGE.fromData({
      version: 1,
      name: 'p',
      rules: [{ id: 'w', effect: 'allow', limits: [{ window: '1h', max_count: 5 }] }],
    });
    const budget = new BudgetWindows('agent-1', 'btc');
    const now = Date.parse('2026-03-01T00:00:00Z');
    const view = budget.at(now);
    const run = (intent: Intent, at: number) =>
      evaluate(intent, risk(), { windows: view, knownDestinations: new Set() }, p, new Date(at));
    assert.equal(run(btcIntent(1n), now).outcome, 'allow');
    assert.throws(() => run({ ...btcIntent(1n), identity: 'agent-2' }, now), /another budget/);
    assert.throws(() => run(nostrIntent(1), now), /another budget/);
    assert.throws(() => run(btcIntent(1n), now + 1), /another time/);
    budget.put('k', ledgerEntryFromIntent(btcIntent(1n), now, 'committed'));
    assert.throws(() => run(btcIntent(1n), now), /stale/);
    // A window reaching before what the budget still holds is refused, never answered short.
    budget.at(now, now - 1000);
    assert.throws(
      () =>
        evaluate(
          btcIntent(1n),
          risk(),
          { windows: budget.at(now), knownDestinations: new Set() },
          p,
          new Date(now),
        ),
      /no longer held/,
    );
    assert.throws(() => budget.at(now, now - 2000), /no longer held/);
  });
});
