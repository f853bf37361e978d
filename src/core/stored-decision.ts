/**
 * How a decision is stored: its risk assessment (the catalog rows it scored, about 2 KB, the same in
 * every request of a kind) is named by the SHA-256 of its canonical JSON, `{"sha256": …}`, the text
 * itself kept once (store/content.ts). Readers put the assessment back before anyone sees the
 * decision, so it reads as it did when the assessment was copied into every row. Decisions stored
 * before that hold the assessment itself, and read as they are.
 */

/** What stands for the assessment in a stored decision. */
export function riskReference(hash: string): { sha256: string } {
  return { sha256: hash };
}

/** The hash a stored decision names its assessment by, or null if it holds the assessment itself. */
export function riskHashOf(decision: unknown): string | null {
  if (typeof decision !== 'object' || decision === null) return null;
  const risk = (decision as { risk?: unknown }).risk;
  if (typeof risk !== 'object' || risk === null || Array.isArray(risk)) return null;
  const keys = Object.keys(risk);
  const hash = (risk as { sha256?: unknown }).sha256;
  return keys.length === 1 && typeof hash === 'string' ? hash : null;
}

/**
 * The stored decision (parsed) with its assessment put back from `texts` (hash → canonical text),
 * in the same place, so the object is the one JSON.parse gives of the whole decision's text. A
 * decision that names an assessment `texts` lacks is returned as it is: callers check first.
 */
export function withRiskAssessment<T>(decision: T, texts: ReadonlyMap<string, string>): T {
  const hash = riskHashOf(decision);
  const text = hash === null ? undefined : texts.get(hash);
  if (text === undefined) return decision;
  (decision as { risk: unknown }).risk = JSON.parse(text);
  return decision;
}
