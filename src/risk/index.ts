/** risk/: the severity × likelihood catalog, scoring, assessment and risk-acceptance records. Pure. */
export {
  type RiskAcceptanceInput,
  type RiskAcceptanceRecord,
  riskAcceptance,
  riskAcceptanceBytes,
  riskAcceptanceJson,
} from './acceptance.ts';
export { LIGHTNING_MAX_SAT, ONCHAIN_MIN_SAT, saferAlternative } from './alternative.ts';
export { amountBump, SAT_THRESHOLDS, WEI_THRESHOLDS } from './amount.ts';
export { entryApplies } from './applies.ts';
export { assessRisk, type RiskContext } from './assess.ts';
export {
  APPROVAL_SELECTORS,
  type CatalogEntry,
  type Condition,
  catalogEntry,
  DM_KINDS,
  IDENTITY_REDIRECTION_KINDS,
  type Operation,
  RISK_CATALOG,
} from './catalog.ts';
export { priorityOf, riskScore } from './score.ts';
export type { MonitorSignals } from './signals.ts';
export { DEFAULT_TOLERANCE, toleranceFromPolicy, toleranceThreshold } from './tolerance.ts';
