/**
 * The intent of an operation that moves nothing (a Bitcoin address handed out, a balance read, a
 * Lightning invoice made or looked up): amount and fee 0, no destination, an asset of its own
 * (`btc:address`, `btc:balance`, `btc:invoice`) so that no rule about payments counts it. It is
 * still judged by policy (its action must be allowed), audited, and rate-limited like every
 * request. Each protocol fills in what it knows (its facets, its detail).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
import { canonicalJson } from '../core/canonical.ts';
import type { Facets, Intent, IntentDetail } from '../core/intent.ts';

/** Hex SHA-256 of what a request commits to (canonical JSON), the operation's name included. */
export function requestDigest(op: string, body: Record<string, string | number | null>): string {
  return bytesToHex(sha256(utf8(canonicalJson({ op, ...body }))));
}

export function noSpendIntent(what: {
  protocol: string;
  action: string;
  identity: string;
  asset: string;
  /** The asset fees of the protocol are paid in (none are here, but an intent names it). */
  feeAsset: string;
  digest: string;
  idempotencyKey: string | null;
  facets: Facets;
  detail: IntentDetail;
}): Intent {
  return {
    protocol: what.protocol,
    action: what.action,
    identity: what.identity,
    asset: what.asset,
    amount: 0n,
    destinations: [],
    maxFee: 0n,
    feeAsset: what.feeAsset,
    payloadDigest: what.digest,
    idempotencyKey: what.idempotencyKey,
    facets: what.facets,
    detail: what.detail,
  };
}
