import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
import { type Canonical, canonicalJson } from '../core/canonical.ts';
import type { Intent } from '../core/intent.ts';
import { toJsonValue } from '../core/json.ts';

/** Intents are stored as JSON (bigints as decimal strings) and bound to approvals by their hash. */
export function intentJson(intent: Intent): string {
  return canonicalJson(toJsonValue(intent) as Canonical);
}

export function intentHash(intent: Intent): string {
  return bytesToHex(sha256(utf8(intentJson(intent))));
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
