/**
 * What evaluation sees of the ledger: the entries that can still count in some window of the policy,
 * and the destinations this identity has paid before. The gateway loads it inside the transaction
 * that then reserves the request, so the check and the reservation see the same numbers.
 */
import type { Intent, IntentAction, Protocol } from '../core/intent.ts';
import { normalizeDestination } from './destination.ts';
import { windowStart } from './duration.ts';
import type { Policy } from './types.ts';

export type LedgerEntryStatus = 'reserved' | 'committed' | 'unknown';

export interface LedgerEntry {
  protocol: Protocol;
  action: IntentAction;
  asset: string;
  /**
   * The one destination of the operation; null when it had none or several. A null destination counts
   * against every per-destination window (it might be any of them).
   */
  destination: string | null;
  /** The intent's facets as booked: non-null, non-bigint values only, keys sorted. */
  facets: Readonly<Record<string, string | number>>;
  amount: bigint;
  /**
   * The fee in the same asset (fees are money, and value windows count them): the worst case while
   * the fee actually paid is not known, then what was paid. 0 for operations that pay no fee.
   */
  fee: bigint;
  /** ms since the epoch. */
  at: number;
  /** Released entries are never in a snapshot; `unknown` (outcome not known) counts like `reserved`. */
  status: LedgerEntryStatus;
  /**
   * Optional: the identity the entry belongs to. The snapshot is meant to hold the intent's identity
   * only; when an entry carries another identity it is ignored, when it carries none it counts.
   */
  identity?: string;
}

export interface LedgerSnapshot {
  entries: readonly LedgerEntry[];
  /** Destinations this identity has paid before (committed); compared after normalization. */
  knownDestinations: ReadonlySet<string>;
}

export const EMPTY_SNAPSHOT: LedgerSnapshot = Object.freeze({
  entries: Object.freeze([]) as readonly LedgerEntry[],
  knownDestinations: new Set<string>(),
});

/**
 * How far back the ledger must be read: evaluation needs exactly the entries with `at > horizon`.
 * It is the earliest start of any window in the policy (rolling: now − d, where an entry exactly d
 * old no longer counts; calendar: the period start minus 1 ms, as entries at the start count).
 * With no windows at all it is `now`.
 */
export function snapshotHorizon(policy: Policy, now: Date): Date {
  const t = now.getTime();
  let horizon = t;
  for (const rule of policy.rules) {
    for (const limit of rule.limits) {
      const start = windowStart(limit.window, t) - (limit.window.kind === 'calendar' ? 1 : 0);
      if (start < horizon) horizon = start;
    }
  }
  return new Date(horizon);
}

/**
 * The part of a request's worst-case fee that counts in its own asset's budget: all of it, except
 * for an EVM token, whose gas is paid in the chain's native coin, not in the token (Warden signs
 * no token transfers yet; when it does, their fee belongs in the native coin's budget).
 */
export function feeInAsset(intent: Intent): bigint {
  return intent.feeAsset.toLowerCase() === intent.asset.toLowerCase() ? intent.maxFee : 0n;
}

/** A number facet of the intent, or null when it has none. */
export function facetNumber(intent: Intent, name: string): number | null {
  const v = intent.facets[name];
  return typeof v === 'number' ? v : null;
}

/** A text facet of the intent in lower case, or null when it has none. */
export function facetText(intent: Intent, name: string): string | null {
  const v = intent.facets[name];
  return typeof v === 'string' ? v.toLowerCase() : null;
}

/**
 * The facets a ledger entry keeps: those a window may match on later (text in lower case), in
 * key order. A bigint facet is a cap on the request itself and no window counts it.
 */
export function bookedFacets(intent: Intent): Readonly<Record<string, string | number>> {
  const out: Record<string, string | number> = {};
  for (const name of Object.keys(intent.facets).sort()) {
    const v = intent.facets[name];
    if (typeof v === 'number') out[name] = v;
    else if (typeof v === 'string') out[name] = v.toLowerCase();
  }
  return out;
}

/** The ledger entry a request books (reserved first, then committed, released or unknown). */
export function ledgerEntryFromIntent(intent: Intent, at: number, status: LedgerEntryStatus): LedgerEntry {
  const destinations = [...new Set(intent.destinations.map(normalizeDestination))];
  return {
    protocol: intent.protocol,
    action: intent.action,
    asset: intent.asset.toLowerCase(),
    destination: destinations.length === 1 ? (destinations[0] ?? null) : null,
    facets: bookedFacets(intent),
    amount: intent.amount,
    fee: feeInAsset(intent),
    at,
    status,
    identity: intent.identity,
  };
}
