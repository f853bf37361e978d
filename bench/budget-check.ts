/**
 * Benchmark stages: a budget check with a million counting entries in its windows against the same
 * check with none, for value and count limits, rolling (24 h) and calendar (day, month) windows and
 * per-destination limits. The check is `evaluate` over the running windows of policy/budget-windows.ts
 * (what the gateway's ledger cache hands it); the store stages add LedgerCache.snapshot inside a
 * store transaction on a SQLite ledger of that many rows. The goal: the 1m check costs at most
 * 1.2× the empty one (`ratio` in the notes: median latency, full over empty, measured in
 * alternating rounds, as the machine is shared and noisy; `opsRatio`: the same by throughput of the
 * median rounds). Denied checks (a full rolling window: when it frees up is searched) are timed
 * on the full budget too.
 *
 *   BENCH_BUDGET_ENTRIES=100000   counting entries in the full budget (default 1,000,000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import type { Intent } from '../src/core/intent.ts';
import { LedgerCache } from '../src/gateway/ledger-cache.ts';
import {
  BudgetWindows,
  evaluate,
  ledgerEntryFromIntent,
  type Policy,
  snapshotHorizon,
} from '../src/policy/index.ts';
import { POLICY_LANGUAGE } from '../src/protocols/policy-language.ts';
import { RISK_CATALOG } from '../src/protocols/risk-catalog.ts';
import { assessRisk } from '../src/risk/index.ts';
import { openSqliteStore, type Store } from '../src/store/store.ts';
import { type BenchOptions, measure, type StageResult } from './measure.ts';

const ENTRIES = Number(process.env.BENCH_BUDGET_ENTRIES ?? 1_000_000);
/** Rounds of (empty, full) measured in turn, n / ROUNDS checks each; each stage reports the medians. */
const ROUNDS = 25;
/** 23:00 UTC on the 20th: the entries of the last 22 hours are all in today's and this month's windows. */
const NOW = Date.parse('2026-03-20T23:00:00.000Z');
const SPREAD = 22 * 3_600_000;
const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
/** 1,000 destinations; one entry in 50 has several outputs (no single destination: counts for all). */
const DESTINATIONS = Array.from({ length: 1000 }, (_, i) => {
  let s = '';
  for (let n = i + 32 ** 3; n > 0; n = Math.floor(n / 32)) s += BECH32[n % 32];
  return `bc1q${s.padEnd(38, 'q')}`;
});
const IDENTITY = 'bench-agent';

function intentTo(destinations: string[], amount = 1000n): Intent {
  return {
    identity: IDENTITY,
    protocol: 'bitcoin',
    action: 'send',
    asset: 'btc',
    feeAsset: 'btc',
    amount,
    maxFee: 0n,
    destinations,
    payloadDigest: 'd'.repeat(64),
    idempotencyKey: null,
    facets: {},
    detail: {},
  };
}

/** The i-th of n counting entries: times spread over the window, amounts 1..1000 sat. */
function entryAt(i: number, n: number) {
  const destinations = i % 50 === 0 ? DESTINATIONS.slice(0, 2) : [DESTINATIONS[i % DESTINATIONS.length]!];
  const at = NOW - SPREAD + Math.floor((i * SPREAD) / n);
  return ledgerEntryFromIntent(intentTo(destinations, BigInt((i % 1000) + 1)), at, 'committed');
}

const LIMITS = {
  value: 'max_value: "1000000000000000"',
  count: 'max_count: 1000000000',
  both: 'max_value: "1000000000000000", max_count: 1000000000',
};

interface Kind {
  id: string;
  name: string;
  window: string;
  limits: string;
  perDestination: boolean;
}

const KINDS: Kind[] = [
  {
    id: 'rolling_value',
    name: '24h value window',
    window: '24h',
    limits: LIMITS.value,
    perDestination: false,
  },
  {
    id: 'rolling_count',
    name: '24h count window',
    window: '24h',
    limits: LIMITS.count,
    perDestination: false,
  },
  {
    id: 'day_value',
    name: 'calendar day value window',
    window: 'day',
    limits: LIMITS.value,
    perDestination: false,
  },
  {
    id: 'day_count',
    name: 'calendar day count window',
    window: 'day',
    limits: LIMITS.count,
    perDestination: false,
  },
  {
    id: 'month_value',
    name: 'calendar month value window',
    window: 'month',
    limits: LIMITS.value,
    perDestination: false,
  },
  {
    id: 'month_count',
    name: 'calendar month count window',
    window: 'month',
    limits: LIMITS.count,
    perDestination: false,
  },
  {
    id: 'rolling_dest',
    name: '24h value+count per destination',
    window: '24h',
    limits: LIMITS.both,
    perDestination: true,
  },
  {
    id: 'day_dest',
    name: 'day value+count per destination',
    window: 'day',
    limits: LIMITS.both,
    perDestination: true,
  },
];

function policyOf(window: string, limits: string, perDestination: boolean): Policy {
  return POLICY_LANGUAGE.parse(`version: 1
name: bench-budget
risk: { tolerance: high }
rules:
  - id: budget
    effect: allow
    limits:
      - { window: ${window}, ${limits}, per_destination: ${perDestination} }
`);
}

/** Counting entries as "1m", "100k". */
function label(n: number): string {
  if (n > 0 && n % 1_000_000 === 0) return `${n / 1_000_000}m`;
  if (n > 0 && n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc');
})();

/** Heap and typed arrays in use, in MB, after a full collection. */
function memoryMb(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1e6;
}

const middle = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** The round of median throughput, with the median of every round's p50 and p99. */
function median(rounds: StageResult[]): StageResult {
  const stage = [...rounds].sort((a, b) => a.opsPerSecond - b.opsPerSecond)[rounds.length >> 1]!;
  return { ...stage, p50Ms: middle(rounds.map((r) => r.p50Ms)), p99Ms: middle(rounds.map((r) => r.p99Ms)) };
}

/** Measures `empty` and `full` in alternating rounds; the full stage's notes carry the ratio. */
async function pair(
  id: string,
  name: string,
  n: number,
  empty: () => unknown,
  full: () => unknown,
  notes: Record<string, string | number>,
): Promise<StageResult[]> {
  const rounds: [StageResult[], StageResult[]] = [[], []];
  await measure('warm-up', 'warm-up', Math.min(n, 2000), 1, empty);
  await measure('warm-up', 'warm-up', Math.min(n, 2000), 1, full);
  const size = Math.max(200, Math.floor(n / ROUNDS));
  for (let r = 0; r < ROUNDS; r++) {
    rounds[0].push(await measure(`${id}.empty`, `${name}, no entries`, size, 1, empty));
    rounds[1].push(await measure(`${id}.${label(ENTRIES)}`, `${name}, ${ENTRIES} entries`, size, 1, full));
  }
  const [e, f] = [median(rounds[0]), median(rounds[1])];
  // Cost per check, full over empty: by median latency (what a check costs; the steadier on a
  // shared machine), and by throughput of the median rounds (collections and neighbours included).
  const ratio = Number((f.p50Ms / e.p50Ms).toFixed(3));
  const opsRatio = Number((e.opsPerSecond / f.opsPerSecond).toFixed(3));
  return [
    { ...e, n: size * ROUNDS, notes: { entries: 0 } },
    { ...f, n: size * ROUNDS, notes: { entries: ENTRIES, ratio, opsRatio, ...notes } },
  ];
}

/** Each budget's clock: every check moves it on 1 ms (the windows slide, as they do in service). */
const clocks = new WeakMap<BudgetWindows, { now: number }>();

/** A check of `policy` against a budget. */
function checker(budget: BudgetWindows, policy: Policy, intent: Intent) {
  const risk = assessRisk(intent, { tolerance: 'high', catalog: RISK_CATALOG });
  const known = new Set<string>();
  let clock = clocks.get(budget);
  if (clock === undefined) {
    clock = { now: NOW };
    clocks.set(budget, clock);
  }
  const time = clock;
  return () => {
    const now = ++time.now;
    const decision = evaluate(
      intent,
      risk,
      { windows: budget.at(now), knownDestinations: known },
      policy,
      new Date(now),
    );
    if (decision.outcome === 'hold') throw new Error('bench: unexpected hold');
    return decision;
  };
}

async function pureStages(n: number): Promise<StageResult[]> {
  const before = memoryMb();
  const t0 = performance.now();
  const full = new BudgetWindows(IDENTITY, 'btc');
  for (let i = 0; i < ENTRIES; i++) full.put(`led_${i}`, entryAt(i, ENTRIES));
  const buildMs = performance.now() - t0;
  const entriesMb = memoryMb() - before;
  const empty = new BudgetWindows(IDENTITY, 'btc');
  const intent = intentTo([DESTINATIONS[0]!]);
  const out: StageResult[] = [];
  for (const kind of KINDS) {
    const policy = policyOf(kind.window, kind.limits, kind.perDestination);
    // The first check builds the rule's time order and window totals over every entry held.
    const firstCheck = performance.now();
    checker(full, policy, intent)();
    const matcherMs = performance.now() - firstCheck;
    out.push(
      ...(await pair(
        `budget.${kind.id}`,
        `budget check, ${kind.name}`,
        n,
        checker(empty, policy, intent),
        checker(full, policy, intent),
        {
          buildMs: Math.round(buildMs),
          firstCheckMs: Math.round(matcherMs),
          entriesMb: Math.round(entriesMb),
        },
      )),
    );
  }
  out.push(...(await deniedStages(full, intent, n)));
  const heldMb = memoryMb() - before;
  for (const stage of out)
    if (stage.id.endsWith(label(ENTRIES))) stage.notes = { ...stage.notes, heldMb: Math.round(heldMb) };
  return out;
}

/**
 * Full rolling windows: the check fails and says when enough entries leave (a search over the
 * window's chunked sums, here half of it), against the same budget's allowed check.
 */
async function deniedStages(full: BudgetWindows, intent: Intent, n: number): Promise<StageResult[]> {
  const out: StageResult[] = [];
  for (const [id, perDestination] of [
    ['rolling_value', false],
    ['rolling_dest', true],
  ] as const) {
    // Half of what the window holds: the request has to wait for about half of it to leave.
    const probe = policyOf('24h', LIMITS.value, perDestination);
    const held = checker(full, probe, intent)().trail[0]!.limits[0]!.used;
    const policy = policyOf('24h', `max_value: "${held / 2n}"`, perDestination);
    const deny = checker(full, policy, intent);
    if (deny().code !== 'LIMIT_EXCEEDED') throw new Error('bench: the full window should deny');
    const allow = checker(full, probe, intent);
    const [allowed, denied] = await pair(`budget.${id}.deny`, `denied check, ${id}`, n, allow, deny, {});
    out.push({
      ...denied!,
      id: `budget.${id}.deny_${label(ENTRIES)}`,
      name: `denied budget check (freesAt searched), ${id}, ${ENTRIES} entries`,
      notes: {
        entries: ENTRIES,
        vsAllowed: Number((allowed!.opsPerSecond / denied!.opsPerSecond).toFixed(3)),
      },
    });
  }
  return out;
}

/**
 * The same entries as rows of the ledger table, generated inside SQLite (one statement per 100,000
 * rows: the fastest way to a big ledger, indexes and all).
 */
async function fillLedger(store: Store, n: number): Promise<void> {
  await store.transaction(async (tx) => {
    await sql`CREATE TEMP TABLE bench_destination (k INTEGER PRIMARY KEY, d TEXT NOT NULL)`.execute(tx);
    await sql`INSERT INTO bench_destination (k, d) VALUES ${sql.join(DESTINATIONS.map((d, k) => sql`(${k}, ${d})`))}`.execute(
      tx,
    );
  });
  const step = 100_000;
  for (let from = 0; from < n; from += step) {
    const to = Math.min(n, from + step);
    await store.transaction((tx) =>
      sql`WITH RECURSIVE seq(i) AS (SELECT CAST(${from} AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < CAST(${to} AS INTEGER))
        INSERT INTO ledger (id, request_id, identity, protocol, action, asset, destination, facets, amount,
          fee, fee_final, at, status, updated_at, version)
        SELECT 'led_' || i, 'req_' || i, ${IDENTITY}, 'bitcoin', 'send', 'btc',
          CASE WHEN i % 50 = 0 THEN NULL ELSE d END, '{}', CAST(i % 1000 + 1 AS TEXT), '0', 1,
          CAST(${NOW - SPREAD} AS INTEGER) + (i * CAST(${SPREAD} AS INTEGER)) / CAST(${n} AS INTEGER), 'committed', '2026-03-20T00:00:00.000Z', i + 1
        FROM seq JOIN bench_destination ON k = i % CAST(${DESTINATIONS.length} AS INTEGER)`.execute(tx),
    );
  }
}

/** LedgerCache.snapshot + evaluate in a store transaction, for a full budget and an empty one. */
async function storeStages(n: number): Promise<StageResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'warden-bench-budget-'));
  const cache = new LedgerCache();
  const raw = await openSqliteStore(join(root, 'warden.db'));
  const store = cache.guard(raw);
  try {
    const t0 = performance.now();
    await fillLedger(raw, ENTRIES);
    const fillMs = performance.now() - t0;
    const policy = policyOf('24h', LIMITS.both, false);
    const risk = assessRisk(intentTo([DESTINATIONS[0]!]), { tolerance: 'high', catalog: RISK_CATALOG });
    const check = (intent: Intent) => {
      let now = NOW;
      return () => {
        const at = new Date(++now);
        return store.transaction(async (tx) =>
          evaluate(
            intent,
            risk,
            cache.snapshot(tx.sync, intent, snapshotHorizon(policy, at), at),
            policy,
            at,
          ),
        );
      };
    };
    const full = check(intentTo([DESTINATIONS[0]!]));
    // Another identity in the same database: the same indexes, no entries.
    const empty = check({ ...intentTo([DESTINATIONS[0]!]), identity: 'bench-empty' });
    const before = memoryMb();
    const t1 = performance.now();
    await full();
    const loadMs = performance.now() - t1;
    const loadedMb = memoryMb() - before;
    return await pair(
      'budget.store.rolling_value',
      'LedgerCache.snapshot + evaluate in a transaction',
      n,
      empty,
      full,
      {
        fillMs: Math.round(fillMs),
        loadMs: Math.round(loadMs),
        loadedMb: Math.round(loadedMb),
      },
    );
  } finally {
    await raw.close();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function budgetCheckStages(options: BenchOptions): Promise<StageResult[]> {
  const n = Math.max(1000, options.n);
  return [...(await pureStages(n)), ...(await storeStages(Math.max(200, Math.floor(n / 5))))];
}
