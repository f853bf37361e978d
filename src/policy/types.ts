/**
 * The normalized form of a policy document, as `parsePolicy` returns it: amounts are bigint in base
 * units, durations are milliseconds or calendar tags, addresses are lower-cased, absent options are
 * `null`. A Policy is deeply frozen; evaluation never changes it.
 */
import type { IntentAction, Protocol } from '../core/intent.ts';
import type { RiskTolerance } from '../core/risk.ts';

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

/** Conditions of a rule; `null` means "any". All given conditions must hold. */
export interface RuleMatch {
  readonly protocols: readonly Protocol[] | null;
  readonly actions: readonly IntentAction[] | null;
  readonly assets: readonly string[] | null;
  readonly destinations: readonly string[] | null;
  readonly amountMin: bigint | null;
  readonly amountMax: bigint | null;
  readonly kinds: readonly number[] | null;
  readonly chainIds: readonly number[] | null;
  readonly contracts: readonly string[] | null;
  readonly functions: readonly string[] | null;
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
  readonly maxFeePerGas: bigint | null;
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
}
