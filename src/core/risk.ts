/** Risk types shared by risk/ (which computes them) and policy/ (which reads them). */
export type RiskLevel = 1 | 2 | 3 | 4;
export type RiskPriority = 'low' | 'medium' | 'high' | 'critical';
export type RiskTolerance = 'low' | 'medium' | 'high';

/** Highest acceptable score per tolerance (guideline 003): low 3, medium 6, high 12. */
export const TOLERANCE_THRESHOLDS: Record<RiskTolerance, number> = { low: 3, medium: 6, high: 12 };

export interface AssessedRisk {
  id: string;
  name: string;
  category: 'financial' | 'operational' | 'security' | 'privacy';
  protocol: string;
  severity: RiskLevel;
  /** Likelihood after amount and context adjustments. */
  likelihood: RiskLevel;
  baseLikelihood: RiskLevel;
  score: number;
  priority: RiskPriority;
  mitigation: string;
  /** Why the likelihood was raised, if it was. */
  adjustments: string[];
}

export interface SaferAlternative {
  protocol: string;
  reason: string;
}

export interface RiskAssessment {
  /** Highest score among the risks that apply. */
  score: number;
  priority: RiskPriority;
  tolerance: RiskTolerance;
  threshold: number;
  withinTolerance: boolean;
  risks: AssessedRisk[];
  recommendations: string[];
  alternative: SaferAlternative | null;
}
