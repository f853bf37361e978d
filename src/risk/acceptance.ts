import { type Canonical, canonicalJson } from '../core/canonical.ts';
import { WardenError } from '../core/errors.ts';
import type { AssessedRisk, RiskAssessment } from '../core/risk.ts';

export const RISK_ACCEPTANCE_TYPE = 'warden.risk-acceptance';
export const RISK_ACCEPTANCE_VERSION = 1;
export const MAX_REASON_LENGTH = 500;
export const MAX_OPERATOR_LENGTH = 200;
export const MAX_OPERATION_ID_LENGTH = 200;

export interface RiskAcceptanceInput {
  operator: string;
  reason: string;
  assessment: RiskAssessment;
  operationId: string;
  at: Date;
}

/** A record of an operator accepting an assessed risk. Plain data, ready for canonicalJson. */
export type RiskAcceptanceRecord = {
  type: typeof RISK_ACCEPTANCE_TYPE;
  version: typeof RISK_ACCEPTANCE_VERSION;
  operationId: string;
  operator: string;
  reason: string;
  /** ISO 8601 UTC time, from the caller (this room reads no clock). */
  at: string;
  assessment: {
    score: number;
    priority: string;
    tolerance: string;
    threshold: number;
    withinTolerance: boolean;
    risks: {
      id: string;
      name: string;
      category: string;
      protocol: string;
      severity: number;
      likelihood: number;
      baseLikelihood: number;
      score: number;
      priority: string;
      mitigation: string;
      adjustments: string[];
    }[];
    recommendations: string[];
    alternative: { protocol: string; reason: string } | null;
  };
};

function invalid(field: string, message: string): WardenError {
  return new WardenError('INVALID_ARGUMENT', message, { field });
}

/** Non-empty after trimming, at most `max` characters (code points); returns the trimmed text. */
function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalid(field, `${field} must not be empty`);
  if ([...trimmed].length > max) throw invalid(field, `${field} must be at most ${max} characters`);
  return trimmed;
}

function copyRisk(r: AssessedRisk): RiskAcceptanceRecord['assessment']['risks'][number] {
  return {
    id: r.id,
    name: r.name,
    category: r.category,
    protocol: r.protocol,
    severity: r.severity,
    likelihood: r.likelihood,
    baseLikelihood: r.baseLikelihood,
    score: r.score,
    priority: r.priority,
    mitigation: r.mitigation,
    adjustments: [...r.adjustments],
  };
}

/**
 * The content of a risk-acceptance record: who accepted which assessment of which operation, why and
 * when. The record is a snapshot (it shares nothing with the caller's assessment). Signing and storing
 * it are done elsewhere, over `riskAcceptanceBytes(record)`.
 * Refuses (INVALID_ARGUMENT) an empty operator or operation id, an empty reason or one over 500
 * characters, and an invalid date.
 */
export function riskAcceptance(input: RiskAcceptanceInput): RiskAcceptanceRecord {
  const operator = text(input.operator, 'operator', MAX_OPERATOR_LENGTH);
  const reason = text(input.reason, 'reason', MAX_REASON_LENGTH);
  const operationId = text(input.operationId, 'operationId', MAX_OPERATION_ID_LENGTH);
  if (!(input.at instanceof Date) || Number.isNaN(input.at.getTime())) {
    throw invalid('at', 'at must be a valid Date');
  }
  const a = input.assessment;
  if (typeof a !== 'object' || a === null || !Array.isArray(a.risks)) {
    throw invalid('assessment', 'assessment must be a risk assessment');
  }
  return {
    type: RISK_ACCEPTANCE_TYPE,
    version: RISK_ACCEPTANCE_VERSION,
    operationId,
    operator,
    reason,
    at: input.at.toISOString(),
    assessment: {
      score: a.score,
      priority: a.priority,
      tolerance: a.tolerance,
      threshold: a.threshold,
      withinTolerance: a.withinTolerance,
      risks: a.risks.map(copyRisk),
      recommendations: [...a.recommendations],
      alternative:
        a.alternative === null ? null : { protocol: a.alternative.protocol, reason: a.alternative.reason },
    },
  };
}

/** The canonical JSON of a record: the exact text to sign. */
export function riskAcceptanceJson(record: RiskAcceptanceRecord): string {
  return canonicalJson(record as Canonical);
}

/** The UTF-8 bytes of the canonical JSON: the exact bytes to sign. */
export function riskAcceptanceBytes(record: RiskAcceptanceRecord): Uint8Array {
  return new TextEncoder().encode(riskAcceptanceJson(record));
}
