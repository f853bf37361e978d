/**
 * The normalized form of a policy document, as a language's `parse` returns it: amounts are bigint
 * in base units, durations are milliseconds or calendar tags, facet values are in their normal
 * form, absent options are `null`. A Policy is deeply frozen; evaluation never changes it. It
 * carries everything evaluation needs from the language it was read in (facet conditions with
 * their messages, the opt-in facets, the words), so `evaluate` takes no vocabulary.
 */
import type { IntentAction, Protocol } from '../core/intent.ts';
import type { RiskTolerance } from '../core/risk.ts';
import type { FacetItem } from './vocabulary.ts';
import type { PolicyWords } from './words.ts';

export type RuleEffect = 'allow' | 'deny' | 'hold';
export type NewDestinationMode = 'allow' | 'hold';
export type CalendarUnit = 'day' | 'week' | 'month';

/** A ledger window: rolling (the last `ms` milliseconds) or calendar (the current UTC day, ISO week, month). */
export type PolicyWindow =
  | { readonly kind: 'rolling'; readonly ms: number; readonly label: string }
  | { readonly kind: 'calendar'; readonly unit: CalendarUnit; readonly label: string };

export interface PolicyLimit {
  readonly window: PolicyWindow;
  readonly maxValue: bigint | null;
  readonly maxCount: number | null;
  readonly perDestination: boolean;
}

/** How one facet is read and compared, copied from its declaration (vocabulary.ts). */
export interface FacetReading {
  readonly facet: string;
  readonly type: 'number' | 'text';
  readonly lowerCase: boolean;
  /** "<label> 7 is not in [1, 3]". */
  readonly label: string;
}

/** `match.<facet>`: the request's value must be one of `values` (normalized, de-duplicated). */
export interface FacetCondition extends FacetReading {
  readonly values: readonly FacetItem[];
  /** The mismatch when the request has no value for the facet. */
  readonly missing: string;
}

/** A facet whose values (all, or those listed) only a rule naming them allows or holds. */
export interface OptInFacet extends FacetReading {
  readonly values: readonly FacetItem[] | 'every value';
}

/** Conditions of a rule; `null` means "any". All given conditions must hold. */
export interface RuleMatch {
  readonly protocols: readonly Protocol[] | null;
  readonly actions: readonly IntentAction[] | null;
  readonly assets: readonly string[] | null;
  readonly destinations: readonly string[] | null;
  readonly amountMin: bigint | null;
  readonly amountMax: bigint | null;
  /** In the order the language declares the facets; empty when the rule names none. */
  readonly facets: readonly FacetCondition[];
}

/** A rule-level cap on a bigint facet of the same name (`max_fee_per_gas`). */
export interface RuleCap {
  readonly name: string;
  readonly max: bigint;
}

export interface PolicyRule {
  readonly id: string;
  readonly index: number;
  readonly description: string | null;
  readonly match: RuleMatch;
  readonly effect: RuleEffect;
  /** Distinct operator approvals a hold needs (0 for allow and deny, and for a delay-only hold). */
  readonly approvals: number;
  /** Hold delay in milliseconds (0 when none). */
  readonly delayMs: number;
  readonly maxPerTx: bigint | null;
  /** In the order the language declares the caps; empty when the rule sets none. */
  readonly caps: readonly RuleCap[];
  readonly limits: readonly PolicyLimit[];
  readonly allowlist: readonly string[] | null;
  readonly denylist: readonly string[] | null;
  readonly newDestination: NewDestinationMode | null;
  readonly maxRiskScore: number | null;
}

export interface Policy {
  readonly version: 1;
  readonly name: string;
  readonly description: string | null;
  readonly risk: {
    readonly tolerance: RiskTolerance;
    /** Explicit global cap; when null the tolerance's threshold applies (see `globalRiskCap`). */
    readonly maxScore: number | null;
  };
  readonly destinations: {
    /** null: no global allowlist. An empty list allows no destination at all. */
    readonly allow: readonly string[] | null;
    readonly deny: readonly string[];
  };
  readonly newDestination: NewDestinationMode;
  readonly rules: readonly PolicyRule[];
  /** The opt-in facets of the language the policy was read in (every rule is checked against them). */
  readonly optIn: readonly OptInFacet[];
  /** How the language says things: amounts, requests, conditions, caps. */
  readonly words: PolicyWords;
}
