import type { Intent } from '../core/intent.ts';
import type { RiskLevel } from '../core/risk.ts';
import type { AmountScale, RiskCatalog } from './catalog-types.ts';
import type { LikelihoodBump } from './signals.ts';

/**
 * Larger amounts make an operation a more attractive target (guideline 003): the likelihood of every
 * targeted risk (severity High or Critical) rises with the amount. Thresholds are strict ("more than")
 * and come from the intent's protocol module (its `amountScale`, per asset): +1 above `plusOne`, +2
 * above `plusTwo`. An asset its module cannot price (a token in its own base units), or a protocol
 * whose module prices nothing (it moves no value), gets no amount bump.
 */
export const TARGETED_SEVERITY: RiskLevel = 3;

/** The scale the intent's amount is priced on, from its protocol's module, or null. */
export function amountScale(catalog: RiskCatalog, intent: Intent): AmountScale | null {
  const pricing = catalog.pricing.find((p) => p.protocol === intent.protocol);
  return pricing === undefined ? null : pricing.scaleOf(intent.asset);
}

/** The amount bump for targeted risks of this intent, or null when the amount is below the thresholds. */
export function amountBump(intent: Intent, scale: AmountScale | null): LikelihoodBump | null {
  if (scale === null) return null;
  const amount = intent.amount;
  if (amount > scale.plusTwo) {
    return {
      steps: 2,
      reason: `amount ${amount} ${scale.unit} > ${scale.plusTwo} ${scale.unit} (${scale.twoLabel}): likelihood +2 (targeted risk)`,
    };
  }
  if (amount > scale.plusOne) {
    return {
      steps: 1,
      reason: `amount ${amount} ${scale.unit} > ${scale.plusOne} ${scale.unit} (${scale.oneLabel}): likelihood +1 (targeted risk)`,
    };
  }
  return null;
}
