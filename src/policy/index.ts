/**
 * The policy room: documents (schema, templates), evaluation, ledger windows, holds. Pure: no I/O,
 * no clock reads, no randomness; it imports only core/ of ours.
 */
export { formatAmount, formatGasPrice, formatUnits, groupDigits } from './amount.ts';
export { normalizeDestination } from './destination.ts';
export { evaluate, FIRST_PAYMENT_REASON, GLOBAL_TRACE, globalRiskCap } from './evaluate.ts';
export { explainPolicy } from './explain.ts';
export {
  type HoldProgress,
  type HoldProgressInput,
  type HoldState,
  type HoldVote,
  holdProgress,
} from './hold.ts';
export { MAX_POLICY_BYTES, type PolicyFormat } from './load.ts';
export { parsePolicy, policyFromData } from './parse.ts';
export { type PolicyDocument, policyJsonSchema } from './schema.ts';
export {
  EMPTY_SNAPSHOT,
  type LedgerEntry,
  type LedgerEntryStatus,
  type LedgerSnapshot,
  ledgerEntryFromIntent,
  snapshotHorizon,
} from './snapshot.ts';
export { POLICY_TEMPLATES } from './templates.ts';
export type {
  CalendarUnit,
  NewDestinationMode,
  Policy,
  PolicyLimit,
  PolicyRule,
  PolicyWindow,
  RuleEffect,
  RuleMatch,
} from './types.ts';
