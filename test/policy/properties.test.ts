import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Intent } from '../../src/core/intent.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import { type LedgerEntry, type LedgerSnapshot, ledgerEntryFromIntent } from '../../src/policy/snapshot.ts';
import { POLICY_LANGUAGE } from '../../src/protocols/policy-language.ts';
import {
  BTC_ADDR,
  BTC_ADDR2,
  btcIntent,
  DAY,
  deepFreeze,
  EVM_ADDR,
  EVM_ADDR2,
  evmIntent,
  lnIntent,
  NOW,
  nostrIntent,
  risk,
} from './helpers.ts';

const parsePolicy = POLICY_LANGUAGE.parse;
const BTC_DESTS = [BTC_ADDR, BTC_ADDR2, 'bc1qc7slrfxkknqcq2jevvvkdgvrt8080852dfjewde450xdlk4ugp7szw5tk9'];
const KINDS = [0, 1, 3, 7];
const RUNS = Number(process.env.POLICY_PROPERTY_RUNS ?? 200);

// ── Generators ──────────────────────────────────────────────────────────────────────────────────

type Doc = Record<string, unknown>;

const windowArb = fc.constantFrom('1s', '30s', '15m', '1h', '90m', '24h', '7d', 'day', 'week', 'month');

const limitArb = fc
  .record(
    {
      window: windowArb,
      max_value: fc.bigInt({ min: 0n, max: 5000n }).map(String),
      max_count: fc.integer({ min: 0, max: 6 }),
      per_destination: fc.boolean(),
    },
    { requiredKeys: ['window'] },
  )
  .filter((l) => l.max_value !== undefined || l.max_count !== undefined);

const matchArb: fc.Arbitrary<Doc> = fc.record(
  {
    protocol: fc.subarray(['bitcoin', 'lightning', 'nostr', 'evm'], { minLength: 1 }),
    amount: fc
      .tuple(fc.option(fc.integer({ min: 0, max: 2000 })), fc.option(fc.integer({ min: 0, max: 2000 })))
      .filter(([min, max]) => min !== null || max !== null)
      .map(([min, max]) => {
        const lo = min !== null && max !== null ? Math.min(min, max) : min;
        const hi = min !== null && max !== null ? Math.max(min, max) : max;
        return { ...(lo !== null ? { min: lo } : {}), ...(hi !== null ? { max: hi } : {}) };
      }),
    kind: fc.subarray(KINDS, { minLength: 1 }),
    destination: fc.subarray([...BTC_DESTS, EVM_ADDR], { minLength: 1 }),
  },
  { requiredKeys: [] },
);

const ruleFields = (effect: fc.Arbitrary<string>): fc.Arbitrary<Doc> =>
  fc
    .record(
      {
        effect,
        match: matchArb,
        approvals: fc.integer({ min: 1, max: 3 }),
        delay: fc.constantFrom('30s', '1h', '24h'),
        max_per_tx: fc.integer({ min: 0, max: 3000 }),
        limits: fc.array(limitArb, { maxLength: 2 }),
        allowlist: fc.subarray([...BTC_DESTS, EVM_ADDR]),
        denylist: fc.subarray([...BTC_DESTS, EVM_ADDR], { maxLength: 1 }),
        new_destination: fc.constantFrom('allow', 'hold'),
        risk: fc.record({ max_score: fc.integer({ min: 1, max: 16 }) }),
      },
      { requiredKeys: ['effect'] },
    )
    .map((r) => {
      if (r.effect !== 'hold') {
        const { approvals: _a, delay: _d, ...rest } = r;
        return rest;
      }
      return r;
    });

const anyRuleArb = ruleFields(
  fc.oneof(
    { weight: 3, arbitrary: fc.constant('allow') },
    { weight: 2, arbitrary: fc.constant('hold') },
    { weight: 1, arbitrary: fc.constant('deny') },
  ),
);

const policyDocArb: fc.Arbitrary<Doc> = fc.record(
  {
    version: fc.constant(1),
    name: fc.constant('generated'),
    risk: fc.record(
      { tolerance: fc.constantFrom('low', 'medium', 'high'), max_score: fc.integer({ min: 1, max: 16 }) },
      { requiredKeys: [] },
    ),
    new_destination: fc.constantFrom('allow', 'hold'),
    destinations: fc.record({ deny: fc.subarray(BTC_DESTS, { maxLength: 1 }) }),
    rules: fc.array(anyRuleArb, { minLength: 1, maxLength: 6 }),
  },
  { requiredKeys: ['version', 'name', 'rules'] },
);

const withIds = (doc: Doc): Doc => ({
  ...doc,
  rules: (doc.rules as Doc[]).map((r, i) => ({ id: `r${i}`, ...r })),
});

const intentArb: fc.Arbitrary<Intent> = fc.oneof(
  fc
    .tuple(fc.bigInt({ min: 0n, max: 3000n }), fc.subarray(BTC_DESTS, { minLength: 1, maxLength: 2 }))
    .map(([a, d]) => btcIntent(a, d)),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 3000n }), fc.constantFrom(...BTC_DESTS))
    .map(([a, d]) => lnIntent(a, [d])),
  fc.constantFrom(...KINDS).map(nostrIntent),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 3000n }), fc.constantFrom(EVM_ADDR, EVM_ADDR2))
    .map(([a, to]) => evmIntent(a, { to })),
);

const snapshotArb: fc.Arbitrary<LedgerSnapshot> = fc
  .tuple(
    fc.array(
      fc.tuple(
        intentArb,
        fc.integer({ min: 0, max: 2 * DAY }),
        fc.constantFrom('reserved', 'committed', 'unknown' as const),
      ),
      { maxLength: 12 },
    ),
    fc.subarray([...BTC_DESTS, EVM_ADDR, EVM_ADDR2]),
  )
  .map(([items, known]) => ({
    entries: items.map(([intent, age, status]) => ledgerEntryFromIntent(intent, NOW.getTime() - age, status)),
    knownDestinations: new Set(known),
  }));

const riskArb = fc.integer({ min: 1, max: 16 }).map((score) => risk(score));

/** A deny rule that matches the given intent, built from a random choice of its properties. */
function matchingDenyArb(intent: Intent): fc.Arbitrary<Doc> {
  return fc
    .record({
      protocol: fc.boolean(),
      action: fc.boolean(),
      asset: fc.boolean(),
      amount: fc.boolean(),
      kind: fc.boolean(),
      destination: fc.boolean(),
    })
    .map((pick) => {
      const match: Doc = {};
      if (pick.protocol) match.protocol = intent.protocol;
      if (pick.action) match.action = [intent.action];
      if (pick.asset) match.asset = intent.asset;
      if (pick.amount) match.amount = { min: intent.amount.toString(), max: intent.amount.toString() };
      if (pick.kind && typeof intent.facets.kind === 'number') match.kind = intent.facets.kind;
      if (pick.destination && intent.destinations[0] !== undefined)
        match.destination = [intent.destinations[0]];
      return { id: 'added-deny', effect: 'deny', ...(Object.keys(match).length > 0 ? { match } : {}) };
    });
}

const insert = <T>(list: readonly T[], index: number, item: T): T[] => {
  const at = index % (list.length + 1);
  return [...list.slice(0, at), item, ...list.slice(at)];
};

// ── Reference windows, written independently of src/policy/duration.ts ─────────────────────────

function referenceStart(window: string, now: number): { start: number; inclusive: boolean } {
  const dayIndex = Math.floor(now / DAY);
  if (window === 'day') return { start: dayIndex * DAY, inclusive: true };
  if (window === 'week') return { start: (dayIndex - ((dayIndex + 3) % 7)) * DAY, inclusive: true }; // 1970-01-01 was a Thursday
  if (window === 'month') {
    const d = new Date(now);
    return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), inclusive: true };
  }
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY }[window.slice(-1)] ?? Number.NaN;
  return { start: now - Number(window.slice(0, -1)) * unit, inclusive: false };
}

interface Lim {
  window: string;
  max_value?: string;
  max_count?: number;
  per_destination?: boolean;
}

function referenceOk(
  limits: readonly Lim[],
  entries: readonly LedgerEntry[],
  request: bigint,
  dest: string,
  now: number,
) {
  return limits.every((l) => {
    const { start, inclusive } = referenceStart(l.window, now);
    const inside = entries.filter(
      (e) => (inclusive ? e.at >= start : e.at > start) && (!l.per_destination || e.destination === dest),
    );
    const sum = inside.reduce((s, e) => s + e.amount, 0n);
    const valueOk = l.max_value === undefined || sum + request <= BigInt(l.max_value);
    const countOk = l.max_count === undefined || inside.length + 1 <= l.max_count;
    return valueOk && countOk;
  });
}

// ── Properties ──────────────────────────────────────────────────────────────────────────────────

describe('properties', () => {
  test('(a) no sequence of requests ever exceeds a cap, and only a real excess denies', () => {
    const requestArb = fc.record({
      amount: fc.bigInt({ min: 0n, max: 3000n }),
      advance: fc.oneof(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 3 * 3_600_000 }),
        fc.integer({ min: 0, max: 9 * DAY }),
      ),
      dest: fc.constantFrom(...BTC_DESTS),
    });
    fc.assert(
      fc.property(
        fc.array(limitArb, { minLength: 1, maxLength: 3 }),
        fc.array(requestArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 400 * DAY }),
        (limits, requests, startOffset) => {
          const p = parsePolicy(
            JSON.stringify({
              version: 1,
              name: 'caps',
              rules: [{ id: 'capped', match: { protocol: 'bitcoin' }, effect: 'allow', limits }],
            }),
          );
          const entries: LedgerEntry[] = [];
          let now = Date.UTC(2027, 0, 1) + startOffset;
          for (const r of requests) {
            now += r.advance;
            const intent = btcIntent(r.amount, [r.dest]);
            const d = evaluate(intent, risk(1), { entries, knownDestinations: new Set() }, p, new Date(now));
            const expected = referenceOk(limits, entries, r.amount, r.dest, now);
            assert.equal(
              d.outcome,
              expected ? 'allow' : 'deny',
              `at ${new Date(now).toISOString()}: ${d.reason}`,
            );
            if (d.outcome !== 'allow') continue;
            entries.push(ledgerEntryFromIntent(intent, now, 'committed'));
            // Window totals only grow when an entry is added, so checking now covers every moment.
            for (const l of limits) {
              const { start, inclusive } = referenceStart(l.window, now);
              const inside = entries.filter((e) => (inclusive ? e.at >= start : e.at > start));
              const groups = l.per_destination
                ? BTC_DESTS.map((d) => inside.filter((e) => e.destination === d))
                : [inside];
              for (const g of groups) {
                if (l.max_value !== undefined)
                  assert.ok(g.reduce((s, e) => s + e.amount, 0n) <= BigInt(l.max_value));
                if (l.max_count !== undefined) assert.ok(g.length <= l.max_count);
              }
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('(b) deny always wins: a matching deny rule added anywhere makes the outcome deny', () => {
    fc.assert(
      fc.property(
        policyDocArb,
        intentArb.chain((intent) => fc.tuple(fc.constant(intent), matchingDenyArb(intent))),
        snapshotArb,
        riskArb,
        fc.nat(),
        (doc, [intent, denyRule], snap, r, index) => {
          const rules = insert(withIds(doc).rules as Doc[], index, denyRule);
          const p = parsePolicy(JSON.stringify({ ...doc, rules }), 'json');
          const d = evaluate(intent, r, snap, p, NOW);
          assert.equal(d.outcome, 'deny');
          assert.equal(d.code, 'POLICY_DENIED');
          assert.equal(d.hold, null);
          assert.ok(d.trail.some((t) => t.rule === 'added-deny' && t.matched));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('(c) evaluation is pure: frozen inputs, the same decision twice, equal to unfrozen inputs', () => {
    fc.assert(
      fc.property(policyDocArb, intentArb, snapshotArb, riskArb, (doc, intent, snap, r) => {
        const p = parsePolicy(JSON.stringify(withIds(doc)));
        const fresh = evaluate(
          structuredClone(intent),
          structuredClone(r),
          { entries: structuredClone(snap.entries), knownDestinations: new Set(snap.knownDestinations) },
          p,
          new Date(NOW),
        );
        const frozen = [
          deepFreeze(intent),
          deepFreeze(r),
          deepFreeze(snap),
          p,
          deepFreeze(new Date(NOW)),
        ] as const;
        const first = evaluate(...frozen);
        const second = evaluate(...frozen);
        assert.deepEqual(first, second);
        assert.deepEqual(first, fresh);
        assert.equal(first.risk, r);
      }),
      { numRuns: RUNS },
    );
  });

  test('(d) a hold never turns into an allow by adding rules with effect hold', () => {
    let holds = 0;
    fc.assert(
      fc.property(
        policyDocArb,
        fc.nat(),
        intentArb,
        snapshotArb,
        fc.integer({ min: 1, max: 6 }).map((score) => risk(score)),
        fc.array(fc.tuple(ruleFields(fc.constant('hold')), fc.nat()), { minLength: 1, maxLength: 3 }),
        (doc, holdAt, intent, snap, r, added) => {
          // A catch-all hold somewhere in the policy makes held outcomes common (fewer discarded runs).
          const seeded = withIds(doc);
          const base = {
            ...seeded,
            rules: insert(seeded.rules as Doc[], holdAt, { id: 'base-hold', effect: 'hold' }),
          };
          const before = evaluate(intent, r, snap, parsePolicy(JSON.stringify(base)), NOW);
          fc.pre(before.outcome === 'hold');
          holds += 1;
          let rules = base.rules as Doc[];
          added.forEach(([rule, index], i) => {
            rules = insert(rules, index, { id: `added-hold-${i}`, ...rule });
          });
          const after = evaluate(intent, r, snap, parsePolicy(JSON.stringify({ ...base, rules })), NOW);
          assert.notEqual(after.outcome, 'allow');
          if (after.outcome === 'hold') {
            assert.ok((after.hold?.approvals ?? 0) >= (before.hold?.approvals ?? 0));
            assert.ok((after.hold?.delaySeconds ?? 0) >= (before.hold?.delaySeconds ?? 0));
          }
        },
      ),
      { numRuns: RUNS },
    );
    assert.ok(holds > RUNS / 10, `enough held cases were generated (${holds})`);
  });
});
