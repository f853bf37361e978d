import type { RiskAssessment } from './risk.ts';

/** What policy evaluation returns: the outcome, and the whole trail that led to it. */
export type Outcome = 'allow' | 'hold' | 'deny';

export type DecisionCode =
  | 'ALLOWED'
  | 'HELD'
  | 'POLICY_DENIED'
  | 'NO_MATCHING_RULE'
  | 'LIMIT_EXCEEDED'
  /** A rule's cap concerns the request but cannot be measured for it (a reference unknown): fail closed. */
  | 'LIMIT_UNMEASURABLE'
  | 'DESTINATION_DENIED'
  | 'RISK_TOO_HIGH';

/** One limit checked against the ledger, with every number an operator needs to understand it. */
export interface LimitCheck {
  /** `max_per_tx`, or a window spelled as in the policy (`1h`, `24h`, `day`, `month`, …). */
  limit: string;
  measure: 'value' | 'count';
  /** Committed total in the window (value in base units, or number of operations). */
  used: bigint;
  /** Reserved but not yet committed (in flight, or outcome unknown). */
  reserved: bigint;
  /** What this request adds. */
  request: bigint;
  cap: bigint;
  ok: boolean;
  perDestination: string | null;
  windowStart: string | null;
  /** When enough of the window frees up for this request to pass (ISO time), if it can. */
  freesAt: string | null;
}

export interface RuleTrace {
  rule: string;
  index: number;
  matched: boolean;
  /** Why it did not match (first failed condition), when it did not. */
  mismatch?: string;
  effect?: Outcome;
  limits: LimitCheck[];
  notes: string[];
}

export interface HoldRequirement {
  approvals: number;
  delaySeconds: number;
  reasons: string[];
}

export interface Decision {
  outcome: Outcome;
  code: DecisionCode;
  /** One sentence for people: what happened and why. */
  reason: string;
  /** The rule that decided, or null for the default deny. */
  decidingRule: string | null;
  /** For a denial: what would let the request pass. */
  remedy: string | null;
  hold: HoldRequirement | null;
  trail: RuleTrace[];
  risk: RiskAssessment;
}
