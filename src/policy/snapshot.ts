/**
 * What evaluation sees of the ledger: the entries that can still count in some window of the policy,
 * and the destinations this identity has paid before. The gateway loads it inside the transaction
 * that then reserves the request, so the check and the reservation see the same numbers.
 */
import type { Facets, Intent, IntentAction, Protocol } from '../core/intent.ts';
import { setOwnField } from '../core/own-field.ts';
import { normalizeDestination } from './destination.ts';
import { windowStart } from './duration.ts';
import type { Policy } from './types.ts';

export type LedgerEntryStatus = 'reserved' | 'committed' | 'unknown';

/** The facets a ledger entry keeps: the request's text and number facets, keys sorted. */
export type LedgerFacets = Readonly<Record<string, string | number>>;

export interface LedgerEntry {
  protocol: Protocol;
  action: IntentAction;
  asset: string;
  /**
   * The one destination of the operation; null when it had none or several. A null destination counts
   * against every per-destination window (it might be any of them).
   */
  destination: string | null;
  /**
   * What windows match on (see ledgerFacets). A rule conditioned on a facet the entry lacks does
   * not count the entry.
   */
  facets: LedgerFacets;
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
 * When an entry counts, as the ledger presents it at `now`: a committed entry when it was made; one
 * not yet committed (a request in flight, a hold waiting for approval, an outcome not known) as made
 * now if it is older, so that a hold cannot slip out of its window while it waits and then execute
 * on top of a full budget. It therefore counts in every window until it settles.
 */
export function ledgerTime(status: string, at: number, now: number): number {
  return status === 'committed' ? at : Math.max(at, now);
}

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

/**
 * An intent's facets as the ledger keeps them (a JSON column): text and finite numbers as they are
 * (already in their module's normal form), keys sorted so that equal facets store alike. Null
 * facets are left out, and so are bigint ones: those are quantities for caps, not what a window
 * is counted by.
 */
export function ledgerFacets(facets: Facets): LedgerFacets {
  const out: Record<string, string | number> = {};
  for (const name of Object.keys(facets).sort()) {
    const v = facets[name];
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) {
      // A facet named "__proto__" stays a plain key, as everywhere in policy/.
      setOwnField(out, name, v);
    }
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
    facets: ledgerFacets(intent.facets),
    amount: intent.amount,
    fee: feeInAsset(intent),
    at,
    status,
    identity: intent.identity,
  };
}
