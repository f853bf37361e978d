import type { Intent } from '../core/intent.ts';
import type { AssessedRisk, RiskAssessment, RiskTolerance } from '../core/risk.ts';
import { saferAlternative } from './alternative.ts';
import { amountBump, amountScale, TARGETED_SEVERITY } from './amount.ts';
import { entryApplies } from './applies.ts';
import type { CatalogEntry, RiskCatalog } from './catalog-types.ts';
import { priorityOf, raiseLikelihood, riskScore } from './score.ts';
import { type LikelihoodBump, type MonitorSignals, signalBumps } from './signals.ts';
import { toleranceThreshold } from './tolerance.ts';

export type { MonitorSignals } from './signals.ts';
export { toleranceFromPolicy } from './tolerance.ts';

export interface RiskContext {
  tolerance: RiskTolerance;
  /** The assembled catalog: rows, pricing and alternatives (src/protocols/risk-catalog.ts). */
  catalog: RiskCatalog;
  signals?: MonitorSignals | undefined;
}

function assessEntry(
  entry: CatalogEntry,
  amount: LikelihoodBump | null,
  signals: MonitorSignals | undefined,
): AssessedRisk {
  const bumps: LikelihoodBump[] = [];
  if (amount !== null && entry.severity >= TARGETED_SEVERITY) bumps.push(amount);
  bumps.push(...signalBumps(entry.raisedBy, signals));
  const steps = bumps.reduce((sum, b) => sum + b.steps, 0);
  const likelihood = raiseLikelihood(entry.likelihood, steps);
  const adjustments = bumps.map((b) => b.reason);
  if (entry.likelihood + steps > 4) adjustments.push('likelihood capped at 4 (likely)');
  const score = riskScore(entry.severity, likelihood);
  return {
    id: entry.id,
    name: entry.name,
    category: entry.category,
    protocol: entry.protocol,
    severity: entry.severity,
    likelihood,
    baseLikelihood: entry.likelihood,
    score,
    priority: priorityOf(score),
    mitigation: entry.mitigation,
    adjustments,
  };
}

/**
 * Scores an intent against the catalog it is given: every risk that applies to the operation, its
 * likelihood raised by the amount (targeted risks) and the monitors' signals, its score severity ×
 * likelihood. The assessment's score is the highest of them; it is within tolerance when score ≤
 * threshold. Recommendations are the mitigations of the high and critical risks, highest score first,
 * once each. Pure: the same intent, catalog and context always give the same assessment.
 */
export function assessRisk(intent: Intent, context: RiskContext): RiskAssessment {
  const threshold = toleranceThreshold(context.tolerance);
  const { catalog, signals } = context;
  const amount = amountBump(intent, amountScale(catalog, intent));
  const risks = catalog.entries
    .map((entry, index) => ({ entry, index }))
    .filter(({ entry }) => entryApplies(entry, intent, signals))
    .map(({ entry, index }) => ({ risk: assessEntry(entry, amount, signals), index }))
    .sort((a, b) => b.risk.score - a.risk.score || a.index - b.index)
    .map(({ risk }) => risk);
  const score = risks.reduce((max, r) => Math.max(max, r.score), 0);
  const recommendations: string[] = [];
  for (const risk of risks) {
    if (
      (risk.priority === 'high' || risk.priority === 'critical') &&
      !recommendations.includes(risk.mitigation)
    ) {
      recommendations.push(risk.mitigation);
    }
  }
  return {
    score,
    priority: priorityOf(score),
    tolerance: context.tolerance,
    threshold,
    withinTolerance: score <= threshold,
    risks,
    recommendations,
    alternative: saferAlternative(catalog, intent),
  };
}
