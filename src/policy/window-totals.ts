/**
 * What a limit check needs of the ledger: for one window of one rule (and one destination, for
 * per-destination limits), the committed and reserved totals of both measures, and — when a rolling
 * window is full — when enough of it leaves. Two sources give the same answers:
 *
 * - `listWindows`: the reference. It walks a snapshot's entries on every question (filter by the
 *   rule, the window and the destination; sort to find when entries leave). A dry run uses it, and
 *   every test of the running totals compares with it.
 * - a `WindowView` of `BudgetWindows` (budget-windows.ts): totals kept running per budget, whose
 *   cost does not grow with the number of entries in the windows (the gateway's ledger cache).
 */
import type { Intent } from '../core/intent.ts';
import { normalizeDestination } from './destination.ts';
import { inWindow } from './duration.ts';
import { entryMatchesRule } from './match.ts';
import type { LedgerEntry, LedgerSnapshot } from './snapshot.ts';
import type { PolicyLimit, PolicyRule } from './types.ts';

/** Committed (`used`) and not yet committed (`reserved`) totals of one measure. */
export interface WindowSums {
  readonly used: bigint;
  readonly reserved: bigint;
}

export interface WindowBucket {
  /** Amount plus fee of every entry. */
  readonly value: WindowSums;
  /** Number of entries. */
  readonly count: WindowSums;
  /**
   * Rolling windows: the time of the entry whose leaving (at its time + d) makes the entries left
   * weigh at least `need` (oldest first, reservations included); null when all of them do not.
   */
  leavingAt(measure: 'value' | 'count', need: bigint): number | null;
}

export interface WindowTotals {
  /** The entries of `rule`'s window `limit` at the evaluation's `now`; `destination` null: all of them. */
  bucket(rule: PolicyRule, limit: PolicyLimit, destination: string | null): WindowBucket;
}

/** Window totals kept for one budget (identity and asset), positioned at `now`. */
export interface WindowView extends WindowTotals {
  readonly identity: string;
  /** Lower-cased, as the ledger keeps it. */
  readonly asset: string;
  readonly now: number;
}

/** A snapshot whose windows are kept running: `evaluate` reads them instead of walking entries. */
export interface RunningSnapshot {
  readonly windows: WindowView;
  /** Destinations this identity has paid before (committed); compared after normalization. */
  readonly knownDestinations: ReadonlySet<string>;
}

/** A snapshot entry that can count for this intent (same identity and asset), destination normalized. */
export interface CountedEntry {
  readonly entry: LedgerEntry;
  readonly destination: string | null;
  readonly committed: boolean;
  /** The entry's time; a corrupt (non-finite) time counts as `now`, inside every window. */
  readonly at: number;
  /** What the entry counts in value windows: amount plus fee; a corrupt negative part counts as 0, never as room. */
  readonly value: bigint;
}

/** A corrupt negative part counts as 0, never as room. */
export const nonNegative = (v: unknown): bigint => (typeof v === 'bigint' && v > 0n ? v : 0n);

export function countedEntries(intent: Intent, snapshot: LedgerSnapshot, now: number): CountedEntry[] {
  const asset = intent.asset.toLowerCase();
  const out: CountedEntry[] = [];
  for (const entry of snapshot.entries) {
    if (entry.asset.toLowerCase() !== asset) continue;
    if (entry.identity !== undefined && entry.identity !== intent.identity) continue;
    out.push({
      entry,
      destination: entry.destination === null ? null : normalizeDestination(entry.destination),
      // Anything not committed (reserved, unknown, or an unexpected status) counts as reserved.
      committed: entry.status === 'committed',
      at: Number.isFinite(entry.at) ? entry.at : now,
      value: nonNegative(entry.amount) + nonNegative(entry.fee),
    });
  }
  return out;
}

/** The reference: every question walks the snapshot's entries. */
export function listWindows(intent: Intent, snapshot: LedgerSnapshot, now: number): WindowTotals {
  const entries = countedEntries(intent, snapshot, now);
  const byRule = new Map<PolicyRule, CountedEntry[]>();
  return {
    bucket(rule, limit, destination) {
      let ruleEntries = byRule.get(rule);
      if (ruleEntries === undefined) {
        ruleEntries = entries.filter((c) => entryMatchesRule(rule, c.entry, normalizeDestination));
        byRule.set(rule, ruleEntries);
      }
      const inside = ruleEntries.filter((c) => inWindow(limit.window, c.at, now));
      const items =
        destination === null
          ? inside
          : inside.filter((c) => c.destination === null || c.destination === destination);
      return listBucket(items);
    },
  };
}

function listBucket(items: readonly CountedEntry[]): WindowBucket {
  const sums = (weight: (c: CountedEntry) => bigint): WindowSums => {
    let used = 0n;
    let reserved = 0n;
    for (const c of items) {
      if (c.committed) used += weight(c);
      else reserved += weight(c);
    }
    return { used, reserved };
  };
  return {
    value: sums((c) => c.value),
    count: sums(() => 1n),
    leavingAt(measure, need) {
      // Entries leave a rolling window d after they were made; find when enough have left.
      const sorted = [...items].sort((a, b) => a.at - b.at);
      let freed = 0n;
      for (const c of sorted) {
        freed += measure === 'value' ? c.value : 1n;
        if (freed >= need) return c.at;
      }
      return null;
    },
  };
}
