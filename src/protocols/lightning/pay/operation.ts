import { z } from 'zod';
import { IDEMPOTENCY_KEY } from '../../../core/validate.ts';
import type { Operation } from '../../operation.ts';
import { storedCodec } from '../../stored.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import type { LightningDb } from '../tables.ts';
import { executePay } from './execute.ts';
import { type PayDetail, payDigest, payIntent } from './intent.ts';
import { type PayRequest, parsePayRequest } from './request.ts';
import { baseUnits, feeLimitField, paymentResultBody } from './schemas.ts';

const requestBody = z.strictObject({
  invoice: z
    .string()
    .min(1)
    .max(4106)
    .describe('a BOLT 11 invoice of the identity’s network (`lightning:` prefix allowed)'),
  amount_msat: baseUnits('msat to pay; only for an invoice without an amount (or equal to its own)')
    .nullable()
    .optional(),
  fee_limit_sat: feeLimitField,
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional(),
});

const requestSchema = Object.freeze({
  ...z.toJSONSchema(requestBody),
  title: 'lightning.pay_invoice request',
});
const resultSchema = Object.freeze({
  ...z.toJSONSchema(paymentResultBody),
  title: 'lightning.pay_invoice result',
});

const { encode, decode } = storedCodec(
  'lightning payment',
  (p: PayRequest) => ({
    invoice: p.invoice,
    amount_msat: p.givenAmountMsat === null ? null : p.givenAmountMsat.toString(),
    fee_limit_sat: p.feeLimitSat === null ? null : p.feeLimitSat.toString(),
    idempotencyKey: p.idempotencyKey,
  }),
  // Read back without a clock: an invoice that expired while held is refused when it is paid.
  (body) => parsePayRequest(body, null),
);

/**
 * `lightning.pay_invoice`: pays a BOLT 11 invoice through the configured backend (lnd or Core
 * Lightning), with the identity's macaroon or rune, once per payment hash.
 */
export const payInvoiceOperation = {
  name: 'lightning.pay_invoice',
  protocol: 'lightning',
  action: 'pay',
  capability: 'lightning:pay_invoice',
  signer: 'lightning-credential',
  http: { path: '/v1/lightning/pay-invoice' },
  title: 'Pay a Lightning invoice',
  description:
    'Pays a BOLT 11 invoice of the identity’s network through the configured Lightning backend. The invoice ' +
    'is checked first (signature and payee, network, expiry, amount: an invoice without one needs ' +
    '`amount_msat`). The amount (msat rounded up to the sat) and the fee limit (`fee_limit_sat`, default 1 % ' +
    'with a floor of 10 sat) count against the budgets; once paid, the fee actually paid replaces the limit. ' +
    'A payment hash is paid once: a second request for one paid or in flight is LIGHTNING_PAYMENT_EXISTS. ' +
    'A payment whose end is not known in time is `unknown` until reconcile follows it.',
  requestSchema,
  resultSchema,
  parse: (body, now) => parsePayRequest(body, now),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: payDigest,
  toIntent: (p, ctx) => payIntent(p, ctx as Parameters<typeof payIntent>[1]),
  review(_p, intent) {
    const d = intent.detail as PayDetail;
    return {
      summary: `Pay ${d.amountMsat} msat over Lightning (${d.network}) to ${d.payee}, fee at most ${d.feeLimitSat} sat`,
      payload: {
        network: d.network,
        payee: d.payee,
        paymentHash: d.paymentHash,
        amountMsat: d.amountMsat,
        maxFeeSat: d.feeLimitSat,
        description: d.description,
        expiresAt: d.expiresAt,
      },
    };
  },
  encode,
  decode,
  execute: (p, intent, ctx) => executePay(p, intent, ctx),
} satisfies Operation<PayRequest, LightningModuleBackend, 'lightning-credential', LightningDb>;
