/**
 * The intent of a Lightning operation that spends nothing (an invoice made, an invoice looked up,
 * the balance read): amount and fee 0, no destination, an asset of its own (`btc:invoice`,
 * `btc:balance`) so that no rule about payments in `btc` counts it. It is still judged by policy
 * (its action must be allowed), audited, and rate-limited like every request.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../../core/bytes.ts';
import { canonicalJson } from '../../core/canonical.ts';
import type { Intent } from '../../core/intent.ts';
import type { IdentityView } from '../../keys/view.ts';
import type { LightningModuleBackend } from './backend/connect.ts';
import { checkCredential, requireBackend } from './identity.ts';

/** Hex SHA-256 of what a request commits to, the operation's name included. */
export function digestOf(op: string, body: Record<string, string | number | null>): string {
  return bytesToHex(sha256(utf8(canonicalJson({ op, ...body }))));
}

export function noSpendIntent(
  ctx: { identity: string; publicKeys: IdentityView; backend: LightningModuleBackend | null },
  what: {
    action: 'receive' | 'read';
    asset: 'btc:invoice' | 'btc:balance';
    digest: string;
    idempotencyKey: string | null;
    detail: Record<string, string | number | null>;
  },
): Intent {
  checkCredential(ctx.publicKeys, ctx.backend);
  requireBackend(ctx.backend);
  return {
    protocol: 'lightning',
    action: what.action,
    identity: ctx.identity,
    asset: what.asset,
    amount: 0n,
    destinations: [],
    maxFee: 0n,
    feeAsset: 'btc',
    payloadDigest: what.digest,
    idempotencyKey: what.idempotencyKey,
    facets: {},
    detail: { network: ctx.publicKeys.network, ...what.detail },
  };
}
