import type { RiskLevel, RiskPriority } from '../core/risk.ts';

/** Risk score = severity × likelihood, 1..16 (guideline 003). */
export function riskScore(severity: RiskLevel, likelihood: RiskLevel): number {
  return severity * likelihood;
}

/** Priority of a score: critical ≥ 12, high ≥ 6, medium ≥ 3, low below (guideline 003). */
export function priorityOf(score: number): RiskPriority {
  if (score >= 12) return 'critical';
  if (score >= 6) return 'high';
  if (score >= 3) return 'medium';
  return 'low';
}

/** Raises a likelihood by `steps`, capped at 4 (Likely). */
export function raiseLikelihood(base: RiskLevel, steps: number): RiskLevel {
  return Math.min(4, Math.max(1, base + steps)) as RiskLevel;
}
