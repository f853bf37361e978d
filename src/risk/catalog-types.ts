import type { IntentAction, Protocol } from '../core/intent.ts';
import type { AssessedRisk, RiskLevel, SaferAlternative } from '../core/risk.ts';

/**
 * The shape of a catalog row, of the operations it applies to, and of what a protocol module
 * supplies (see catalog.ts). Nothing here names a protocol: the modules' rows do.
 */
export type RiskCategory = AssessedRisk['category'];
/** A protocol module's name, or `all` for a row that every protocol carries. */
export type CatalogProtocol = Protocol;
/** The protocol of the rows that every protocol carries (man-in-the-middle). */
export const ALL_PROTOCOLS = 'all';
/**
 * Where a row comes from: one of guideline 003's tables (`guideline:financial`, `guideline:operational`,
 * `guideline:security`, or a protocol's own risk matrix, `guideline:<protocol>-matrix`), or Warden's
 * own reasoning (`warden`).
 */
export type RiskSource = `guideline:${string}` | 'warden';

/** A value a facet condition lists: a facet's normal form (core/intent.ts), null excepted. */
export type ListedFacetValue = string | number;

/**
 * A condition an operation must meet for a risk to apply, as data (so it can be listed and rendered,
 * see describe.ts).
 */
export type Condition =
  /** amount > 0 */
  | { readonly type: 'amount-positive' }
  /** amount < `than` (base units of the asset) */
  | { readonly type: 'amount-below'; readonly than: bigint }
  /** amount > `than` (base units of the asset) */
  | { readonly type: 'amount-above'; readonly than: bigint }
  /** at least one destination */
  | { readonly type: 'has-destination' }
  /**
   * The intent's facet `facet` is one of `values`. When the intent does not carry the facet at all
   * (no such key in `intent.facets`), the condition holds: an unknown value is assumed to be the risky
   * one. When the facet is present but null (the request has none: a transfer that calls no
   * function), it does not hold. Strings compare without regard to case (hex spellings differ only
   * in case; matching more only ever adds a risk).
   */
  | { readonly type: 'facet-in'; readonly facet: string; readonly values: readonly ListedFacetValue[] }
  /**
   * A monitor or backend fact (see MonitorSignals) passes `test` (default: it is true). An absent
   * signal (the fact is unknown: no backend told it) holds only with `whenUnknown: true`, for
   * rows that applied before the fact was known and must go on applying when it is not.
   */
  | {
      readonly type: 'signal';
      readonly signal: string;
      readonly test?: SignalTest;
      readonly whenUnknown?: boolean;
    };

/** Which operations a risk applies to: the protocol, the actions (all when absent), and conditions (all must hold). */
export interface Operation {
  /** A module's protocol; `all` only in rows for all protocols (expanded to every module's). */
  readonly protocol: CatalogProtocol;
  readonly actions?: readonly IntentAction[];
  readonly when?: readonly Condition[];
}

/** How a monitor signal is tested: true, or a finite number compared with `than`. */
export type SignalTest =
  | { readonly type: 'true' }
  | { readonly type: 'below'; readonly than: number }
  | { readonly type: 'at-most'; readonly than: number }
  | { readonly type: 'at-least'; readonly than: number };

/** One step of a signal rule: when `test` holds, the likelihood rises by `steps`, for `reason`. */
export interface SignalTier {
  readonly test: SignalTest;
  readonly steps: number;
  /** Recorded in the risk's adjustments; `{value}` is replaced by the signal's value. */
  readonly reason: string;
}

/**
 * A monitor signal that raises the likelihood of the rows that name it: the first tier whose test
 * holds gives the bump; an absent, non-boolean or non-finite value gives none.
 */
export interface SignalRule {
  readonly signal: string;
  readonly tiers: readonly SignalTier[];
}

export interface CatalogEntry {
  readonly id: string;
  readonly name: string;
  readonly category: RiskCategory;
  readonly protocol: CatalogProtocol;
  readonly severity: RiskLevel;
  readonly likelihood: RiskLevel;
  readonly mitigation: string;
  readonly source: RiskSource;
  /** The risk applies when any one of these operations matches the Intent. */
  readonly appliesTo: readonly Operation[];
  /** The monitor signals that raise its likelihood, bumps in this order. */
  readonly raisedBy?: readonly SignalRule[];
}

/**
 * The scale a protocol's amounts are priced on for the amount bump (amount.ts): amounts strictly
 * above `plusOne` raise the likelihood of targeted risks by 1, above `plusTwo` by 2.
 */
export interface AmountScale {
  /** The base unit, as it is written in the adjustment (`sat`). */
  readonly unit: string;
  readonly plusOne: bigint;
  readonly plusTwo: bigint;
  /** What the thresholds are worth in words (`0.1 BTC`). */
  readonly oneLabel: string;
  readonly twoLabel: string;
}

/** A safer way to make the payments an operation matches (offered whatever the tolerance). */
export interface AlternativeRule {
  readonly operation: Operation;
  readonly alternative: SaferAlternative;
}

/** What one protocol module supplies to the catalog (src/protocols/<name>/risks.ts). */
export interface ProtocolRisks {
  readonly protocol: Protocol;
  /** Its rows: each has the module's protocol, and every operation of it names that protocol. */
  readonly rows: readonly CatalogEntry[];
  /**
   * The scale amounts of `asset` are priced on, or null when they cannot be priced (a token in its
   * own base units). Absent: the protocol's amounts are never priced (it moves no value).
   */
  readonly amountScale?: (asset: string) => AmountScale | null;
  /** Safer ways to make its payments; each operation names the module's protocol. */
  readonly alternatives?: readonly AlternativeRule[];
}

/** How one protocol's amounts are priced (from its module's `amountScale`). */
export interface AmountPricing {
  readonly protocol: Protocol;
  readonly scaleOf: (asset: string) => AmountScale | null;
}

/**
 * The assembled catalog (buildCatalog in catalog.ts): every row, rows for all protocols expanded to
 * each module's protocol, and the modules' pricing and alternatives. Deeply frozen.
 */
export interface RiskCatalog {
  readonly entries: readonly CatalogEntry[];
  /** The protocols of the modules it was built from, in their order. */
  readonly protocols: readonly Protocol[];
  readonly pricing: readonly AmountPricing[];
  readonly alternatives: readonly AlternativeRule[];
}

export const AMOUNT: Condition = { type: 'amount-positive' };
export const DESTINATION: Condition = { type: 'has-destination' };

/** The facet condition: `facet` is one of `values` (or not known). */
export function facetIn(facet: string, values: readonly ListedFacetValue[]): Condition {
  return { type: 'facet-in', facet, values };
}
