import { WardenError } from '../core/errors.ts';
import { type RiskTolerance, TOLERANCE_THRESHOLDS } from '../core/risk.ts';

export const DEFAULT_TOLERANCE: RiskTolerance = 'medium';

export function isRiskTolerance(value: unknown): value is RiskTolerance {
  return value === 'low' || value === 'medium' || value === 'high';
}

/**
 * An identity's risk tolerance, from the value its policy holds: 'low' | 'medium' | 'high', and
 * 'medium' when the policy says nothing (undefined or null). Anything else is refused rather than
 * guessed: a typo must not silently move an identity to another tolerance.
 */
export function toleranceFromPolicy(value: unknown): RiskTolerance {
  if (value === undefined || value === null) return DEFAULT_TOLERANCE;
  if (isRiskTolerance(value)) return value;
  throw new WardenError('INVALID_ARGUMENT', "risk tolerance must be 'low', 'medium' or 'high'", {
    field: 'riskTolerance',
    got: typeof value === 'string' ? value.slice(0, 32) : typeof value,
  });
}

/** Highest acceptable score for a tolerance (low 3, medium 6, high 12); a score equal to it is within. */
export function toleranceThreshold(tolerance: RiskTolerance): number {
  if (!isRiskTolerance(tolerance)) {
    throw new WardenError('INVALID_ARGUMENT', "risk tolerance must be 'low', 'medium' or 'high'", {
      field: 'tolerance',
    });
  }
  return TOLERANCE_THRESHOLDS[tolerance];
}
