/**
 * risk/: scoring, assessment and risk-acceptance records over the catalog rows the protocol modules
 * supply (assembled in src/protocols/risk-catalog.ts). Pure; names no protocol.
 */
export {
  type RiskAcceptanceInput,
  type RiskAcceptanceRecord,
  riskAcceptance,
  riskAcceptanceBytes,
  riskAcceptanceJson,
} from './acceptance.ts';
export { saferAlternative } from './alternative.ts';
export { amountBump, amountScale } from './amount.ts';
export { entryApplies } from './applies.ts';
export { assessRisk, type RiskContext } from './assess.ts';
export {
  ALL_PROTOCOLS,
  type AlternativeRule,
  AMOUNT,
  type AmountScale,
  buildCatalog,
  type CatalogEntry,
  type Condition,
  catalogEntry,
  DESTINATION,
  facetIn,
  type Operation,
  type ProtocolRisks,
  type RiskCatalog,
  type SignalRule,
} from './catalog.ts';
export { describeCondition, describeEntry, describeOperation, describeSignalRule } from './describe.ts';
export { priorityOf, riskScore } from './score.ts';
export { HIGH_FEES, type MonitorSignals, PAID_BEFORE, RECENT_FAILURES } from './signals.ts';
export { DEFAULT_TOLERANCE, toleranceFromPolicy, toleranceThreshold } from './tolerance.ts';
