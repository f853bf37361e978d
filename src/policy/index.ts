/**
 * The policy room: documents (schema, parsing), evaluation, ledger windows, holds, over the
 * facets protocol modules declare. Pure: no I/O, no clock reads, no randomness; it imports only
 * core/ of ours, and names no protocol (the vocabularies come from src/protocols/).
 */
export { BASE_UNITS, countedUnit, formatUnits, groupDigits } from './amount.ts';
export { BudgetWindows } from './budget-windows.ts';
export { normalizeDestination } from './destination.ts';
export { nextPeriodStart, parseWindow, WINDOW_PATTERN, windowStart } from './duration.ts';
export { evaluate, FIRST_PAYMENT_REASON, GLOBAL_TRACE, globalRiskCap } from './evaluate.ts';
export { explainPolicy, joinOr } from './explain.ts';
export {
  type HoldProgress,
  type HoldProgressInput,
  type HoldState,
  type HoldVote,
  holdProgress,
} from './hold.ts';
export { createPolicyLanguage, type PolicyLanguage } from './language.ts';
export { MAX_POLICY_BYTES, type PolicyFormat } from './load.ts';
export type { PolicyDocument } from './schema.ts';
export { oneOfItem, showInput } from './schema.ts';
export {
  EMPTY_SNAPSHOT,
  type LedgerEntry,
  type LedgerEntryStatus,
  type LedgerFacets,
  type LedgerSnapshot,
  ledgerEntryFromIntent,
  ledgerFacets,
  ledgerTime,
  snapshotHorizon,
} from './snapshot.ts';
export { tightestCap } from './tightest-cap.ts';
export type {
  CalendarUnit,
  FacetCondition,
  FacetReading,
  NewDestinationMode,
  OptInFacet,
  Policy,
  PolicyLimit,
  PolicyRule,
  PolicyWindow,
  RuleCap,
  RuleEffect,
  RuleMatch,
} from './types.ts';
export type {
  ActionVocabulary,
  AssetUnit,
  CapVocabulary,
  FacetItem,
  FacetVocabulary,
  IntentPhrase,
  ProtocolVocabulary,
  RelativeCap,
  TemplateFragments,
} from './vocabulary.ts';
export type {
  RunningSnapshot,
  WindowBucket,
  WindowSums,
  WindowTotals,
  WindowView,
} from './window-totals.ts';
export type { PolicyWords } from './words.ts';
