import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
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
  return bytesToHex(sha256(utf8(canonicalJson(review as unknown as Canonical))));
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
