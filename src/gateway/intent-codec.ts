import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
import { type Canonical, canonicalJson } from '../core/canonical.ts';
import type { Intent } from '../core/intent.ts';
import { toJsonValue } from '../core/json.ts';

/** Intents are stored as JSON (bigints as decimal strings). */
export function intentJson(intent: Intent): string {
  return canonicalJson(toJsonValue(intent) as Canonical);
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
  const intent: Intent = { ...raw, amount: BigInt(raw.amount), maxFee: BigInt(raw.maxFee) };
  if (raw.evm) {
    const e = raw.evm as unknown as Record<string, string>;
    intent.evm = {
      ...raw.evm,
      maxFeePerGas: BigInt(e.maxFeePerGas!),
      maxPriorityFeePerGas: BigInt(e.maxPriorityFeePerGas!),
      gasLimit: BigInt(e.gasLimit!),
    };
  }
  return intent;
}
