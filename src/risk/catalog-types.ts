import type { IntentAction, Protocol } from '../core/intent.ts';
import type { AssessedRisk, RiskLevel } from '../core/risk.ts';

/** The shape of a catalog row and of the operations it applies to (see catalog.ts). */
export type RiskCategory = AssessedRisk['category'];
export type CatalogProtocol = Protocol | 'all';
export type RiskSource =
  | 'guideline:financial'
  | 'guideline:operational'
  | 'guideline:security'
  | 'guideline:bitcoin-matrix'
  | 'guideline:lightning-matrix'
  | 'guideline:nostr-matrix'
  | 'warden';

/**
 * A condition an operation must meet for a risk to apply, as data (so it can be listed and rendered).
 * When the Intent lacks the field a condition needs (no `nostr` or `evm` block), the condition is taken
 * to hold: an unknown kind or selector is assumed to be the risky one.
 */
export type Condition =
  /** amount > 0 */
  | { readonly type: 'amount-positive' }
  /** at least one destination */
  | { readonly type: 'has-destination' }
  /** the Nostr event kind is one of `kinds` */
  | { readonly type: 'nostr-kind'; readonly kinds: readonly number[] }
  /** the EVM function selector is one of `selectors` (lower-case 0x + 8 hex) */
  | { readonly type: 'evm-selector'; readonly selectors: readonly string[] }
  /** a monitor/backend fact is present and true (see MonitorSignals) */
  | { readonly type: 'signal'; readonly signal: 'spendsUnconfirmed' };

/** Which operations a risk applies to: the protocol, the actions (all when absent), and conditions (all must hold). */
export interface Operation {
  readonly protocol: Protocol;
  readonly actions?: readonly IntentAction[];
  readonly when?: readonly Condition[];
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
}

export const AMOUNT: Condition = { type: 'amount-positive' };
export const DESTINATION: Condition = { type: 'has-destination' };

export const BTC_SEND: Operation = { protocol: 'bitcoin', actions: ['send'] };
export const BTC_PAYMENT: Operation = { protocol: 'bitcoin', actions: ['send'], when: [AMOUNT] };
export const LN_PAY: Operation = { protocol: 'lightning', actions: ['pay'] };
export const LN_PAYMENT: Operation = { protocol: 'lightning', actions: ['pay'], when: [AMOUNT] };
export const NOSTR_SIGN: Operation = { protocol: 'nostr', actions: ['sign_event'] };
export const EVM_ANY: Operation = { protocol: 'evm', actions: ['send', 'call'] };
