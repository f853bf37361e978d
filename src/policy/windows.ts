/**
 * Limit checks of one matching rule: max_per_tx, the rule's caps and every window limit, with the
 * numbers (used, reserved, request, cap) and, when a check fails, when it would pass (freesAt).
 *
 * Fees are money: value limits (max_per_tx and every max_value window) count an operation's amount
 * plus its fee — for a request its worst-case fee (`maxFee`), for a ledger entry the fee booked
 * (the worst case until the fee actually paid is known).
 */
import type { LimitCheck } from '../core/decision.ts';
import type { Intent } from '../core/intent.ts';
import { normalizeDestination } from './destination.ts';
import { inWindow, nextPeriodStart, windowStart } from './duration.ts';
import { entryMatchesRule } from './match.ts';
import { feeInAsset, type LedgerEntry, type LedgerSnapshot } from './snapshot.ts';
import type { PolicyLimit, PolicyRule } from './types.ts';
import type { PolicyWords } from './words.ts';

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

const nonNegative = (v: unknown): bigint => (typeof v === 'bigint' && v > 0n ? v : 0n);

/** What a request counts against value limits: its amount plus the most its fees can cost. */
export function requestValue(intent: Intent): bigint {
  return intent.amount + feeInAsset(intent);
}

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

function simpleCheck(limit: string, request: bigint, cap: bigint): LimitCheck {
  return {
    limit,
    measure: 'value',
    used: 0n,
    reserved: 0n,
    request,
    cap,
    ok: request <= cap,
    perDestination: null,
    windowStart: null,
    freesAt: null,
  };
}

export function checkRuleLimits(
  rule: PolicyRule,
  intent: Intent,
  destinations: readonly string[],
  entries: readonly CountedEntry[],
  now: number,
  notes: string[],
  words: PolicyWords,
): LimitCheck[] {
  const checks: LimitCheck[] = [];
  const value = requestValue(intent);
  if (rule.maxPerTx !== null) checks.push(simpleCheck('max_per_tx', value, rule.maxPerTx));
  for (const cap of rule.caps) {
    const quantity = Object.hasOwn(intent.facets, cap.name) ? intent.facets[cap.name] : undefined;
    if (typeof quantity !== 'bigint') {
      notes.push(words.cap(cap.name)?.notApplicable ?? `${cap.name} does not apply to this request`);
    } else checks.push(simpleCheck(cap.name, quantity, cap.max));
  }
  if (rule.limits.length === 0) return checks;
  const ruleEntries = entries.filter((c) => entryMatchesRule(rule, c.entry, normalizeDestination));
  for (const limit of rule.limits) {
    const inside = ruleEntries.filter((c) => inWindow(limit.window, c.at, now));
    const buckets: { destination: string | null; items: CountedEntry[] }[] =
      limit.perDestination && destinations.length > 0
        ? destinations.map((d) => ({
            destination: d,
            items: inside.filter((c) => c.destination === null || c.destination === d),
          }))
        : [{ destination: null, items: inside }];
    for (const bucket of buckets) {
      if (limit.maxValue !== null) {
        checks.push(
          windowCheck(limit, 'value', limit.maxValue, value, bucket.items, bucket.destination, now),
        );
      }
      if (limit.maxCount !== null) {
        checks.push(
          windowCheck(limit, 'count', BigInt(limit.maxCount), 1n, bucket.items, bucket.destination, now),
        );
      }
    }
  }
  return checks;
}

function windowCheck(
  limit: PolicyLimit,
  measure: 'value' | 'count',
  cap: bigint,
  request: bigint,
  items: readonly CountedEntry[],
  perDestination: string | null,
  now: number,
): LimitCheck {
  const weight = (c: CountedEntry): bigint => (measure === 'value' ? c.value : 1n);
  let used = 0n;
  let reserved = 0n;
  for (const c of items) {
    if (c.committed) used += weight(c);
    else reserved += weight(c);
  }
  const ok = used + reserved + request <= cap;
  let freesAt: number | null = null;
  if (!ok && request <= cap) {
    if (limit.window.kind === 'calendar') {
      freesAt = nextPeriodStart(limit.window.unit, now);
    } else {
      // Entries leave a rolling window d after they were made; find when enough have left.
      const need = used + reserved + request - cap;
      const sorted = [...items].sort((a, b) => a.at - b.at);
      let freed = 0n;
      for (const c of sorted) {
        freed += weight(c);
        if (freed >= need) {
          freesAt = c.at + limit.window.ms;
          break;
        }
      }
    }
  }
  return {
    limit: limit.window.label,
    measure,
    used,
    reserved,
    request,
    cap,
    ok,
    perDestination,
    windowStart: new Date(windowStart(limit.window, now)).toISOString(),
    freesAt: freesAt === null ? null : new Date(freesAt).toISOString(),
  };
}
