import { createHash } from 'node:crypto';
import { type Canonical, type CanonicalText, canonicalJson } from '../core/canonical.ts';
import type { FacetValue, Intent } from '../core/intent.ts';
import { canonicalTextOf, toJsonValue } from '../core/json.ts';
import { QUANTITY_FACETS } from '../protocols/registry.ts';

/** Intents are stored as canonical JSON (bigints as decimal strings), the text their audit record holds. */
export function intentText(intent: Intent): CanonicalText {
  return canonicalTextOf(intent);
}

/**
 * What an approval is bound to, shown whole to the approver: the operation, the intent the policy
 * judged, and the full payload exactly as it will be signed. Its hash (`intentHash` in the API) is
 * SHA-256 of its canonical JSON, so an operator can recompute it from what is shown.
 */
export interface Review {
  operation: string;
  intent: Canonical;
  payload: Canonical;
}

export function reviewDocument(operation: string, intent: Intent, payload: Record<string, unknown>): Review {
  return {
    operation,
    intent: toJsonValue(intent) as Canonical,
    payload: toJsonValue(payload) as Canonical,
  };
}

export function reviewHash(review: Review): string {
  return createHash('sha256')
    .update(canonicalJson(review as unknown as Canonical), 'utf8')
    .digest('hex');
}

/**
 * The review hash of a new request, from the intent's canonical text the request row and the audit
 * record hold too (one walk of the intent, not two): the same bytes as `reviewDocument`'s.
 */
export function newReviewHash(operation: string, intent: CanonicalText, payload: Record<string, unknown>) {
  return reviewHash({ operation, intent, payload: toJsonValue(payload) as Canonical });
}

export function intentFromJson(text: string): Intent {
  const raw = JSON.parse(text) as Intent & { amount: string; maxFee: string };
  const facets: Record<string, FacetValue> = { ...raw.facets };
  // Quantity facets (a cap such as the max fee per gas) are bigints, stored as decimal text.
  for (const name of QUANTITY_FACETS) {
    const v = facets[name];
    if (typeof v === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(v)) facets[name] = BigInt(v);
  }
  const { signals, ...rest } = raw;
  const intent: Intent = { ...rest, amount: BigInt(raw.amount), maxFee: BigInt(raw.maxFee), facets };
  // Intents stored before signals have none; what is kept is what risk may read (booleans, numbers).
  if (signals !== undefined && signals !== null && typeof signals === 'object') {
    intent.signals = Object.fromEntries(
      Object.entries(signals).filter(
        ([, v]) => typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)),
      ),
    );
  }
  return intent;
}
