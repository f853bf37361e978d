/**
 * What a payment is judged on: the invoice's network against the identity's, the payee (its node
 * id is the destination), the amount in sat rounded up, and the fee limit, booked whole with it.
 * A payment hash already paid or in flight through Warden is refused here, before any row.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../../../core/bytes.ts';
import { canonicalJson } from '../../../core/canonical.ts';
import { WardenError } from '../../../core/errors.ts';
import type { Intent, IntentDetail } from '../../../core/intent.ts';
import type { IdentityView } from '../../../keys/view.ts';
import type { LightningBackendKind } from '../backend/backend.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import { expiresAt } from '../bolt11.ts';
import { checkCredential, requireBackend } from '../identity.ts';
import { monitorSignals } from '../monitor/hook.ts';
import { refuseKnown } from '../payments.ts';
import type { LightningDb } from '../tables.ts';
import { feeLimitSat, satCeil } from './fee-limit.ts';
import type { PayRequest } from './request.ts';

export function payDigest(p: PayRequest): string {
  return bytesToHex(
    sha256(
      utf8(
        canonicalJson({
          invoice: p.invoice,
          amountMsat: p.givenAmountMsat === null ? null : p.givenAmountMsat.toString(),
          feeLimitSat: p.feeLimitSat === null ? null : p.feeLimitSat.toString(),
        }),
      ),
    ),
  );
}

/** The module's part of the intent (plain JSON, amounts as strings). */
export type PayDetail = {
  network: string;
  paymentHash: string;
  payee: string;
  amountMsat: string;
  feeLimitSat: string;
  expiresAt: string;
  description: string | null;
};

/**
 * The identity's network and credential, checked before the payment is judged. `backend`: the
 * configured kind (lnd when none is: the request fails on its absence next).
 */
export function checkPayer(
  p: PayRequest,
  publicKeys: IdentityView,
  backend: LightningBackendKind = 'lnd',
): void {
  if (p.decoded.network !== publicKeys.network)
    throw new WardenError(
      'INVALID_INVOICE',
      `the invoice is for ${p.decoded.network}, the identity pays on ${publicKeys.network}`,
      { reason: 'network_mismatch', invoiceNetwork: p.decoded.network },
    );
  checkCredential(publicKeys, backend);
}

export async function payIntent(
  p: PayRequest,
  ctx: {
    identity: string;
    publicKeys: IdentityView;
    backend: LightningModuleBackend | null;
    tables?: LightningDb;
  },
): Promise<Intent> {
  checkPayer(p, ctx.publicKeys, ctx.backend?.kind);
  const backend = requireBackend(ctx.backend);
  if (ctx.tables) await refuseKnown(ctx.tables, p.decoded.paymentHash);
  const fee = feeLimitSat(p.amountMsat, p.feeLimitSat);
  const detail: PayDetail = {
    network: p.decoded.network,
    paymentHash: p.decoded.paymentHash,
    payee: p.decoded.payee,
    amountMsat: p.amountMsat.toString(),
    feeLimitSat: fee.toString(),
    expiresAt: new Date(expiresAt(p.decoded) * 1000).toISOString(),
    description: p.decoded.description,
  };
  return paymentIntent({
    payment: 'invoice',
    identity: ctx.identity,
    payee: p.decoded.payee,
    amountMsat: p.amountMsat,
    feeLimitSat: fee,
    digest: payDigest(p),
    idempotencyKey: p.idempotencyKey,
    detail,
    backend,
  });
}

/**
 * The intent of a Lightning payment, of an invoice or by keysend: `amountMsat` to `payee` in sat
 * rounded up, the fee limit booked whole with it.
 */
export function paymentIntent(what: {
  payment: 'invoice' | 'keysend';
  identity: string;
  payee: string;
  amountMsat: bigint;
  feeLimitSat: bigint;
  digest: string;
  idempotencyKey: string | null;
  detail: IntentDetail;
  backend: LightningModuleBackend;
}): Intent {
  return {
    protocol: 'lightning',
    action: 'pay',
    identity: what.identity,
    asset: 'btc',
    amount: satCeil(what.amountMsat),
    destinations: [what.payee],
    maxFee: what.feeLimitSat,
    feeAsset: 'btc',
    payloadDigest: what.digest,
    idempotencyKey: what.idempotencyKey,
    // Its rules are Bitcoin's `btc` rules, one budget for both; `payment` tells an invoice from a keysend.
    facets: { payment: what.payment },
    detail: what.detail,
    // The channel monitor's last reading, when recent: risk's channel and offline rows read it.
    signals: monitorSignals(what.backend),
  };
}
