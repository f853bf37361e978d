import type { Intent } from '../core/intent.ts';
import type { SaferAlternative } from '../core/risk.ts';
import { operationMatches } from './applies.ts';
import type { RiskCatalog } from './catalog-types.ts';

/**
 * A safer way to make the same payment, or null: the first of the modules' alternative rules whose
 * operation matches the intent (guideline 003: small on-chain payments, large off-chain ones). Offered
 * whatever the tolerance, so that policy and front doors can show it next to a hold or a denial.
 */
export function saferAlternative(catalog: RiskCatalog, intent: Intent): SaferAlternative | null {
  const rule = catalog.alternatives.find((r) => operationMatches(r.operation, intent, undefined));
  return rule === undefined ? null : { protocol: rule.alternative.protocol, reason: rule.alternative.reason };
}
