/**
 * `lightning.make_invoice`: a BOLT 11 invoice of the identity's node, for the identity to be paid.
 * Single use (lnd settles an invoice once), short-lived (ten minutes unless asked, a day at most),
 * with route hints for the node's private channels. Nothing leaves, so nothing is reserved; it is
 * still judged by policy (action `receive`), audited and rate-limited. The invoice is recorded as
 * the identity's (invoice/made.ts): only it may look the invoice up.
 */
import { z } from 'zod';
import { IDEMPOTENCY_KEY } from '../../../core/validate.ts';
import { requestDigest } from '../../no-spend.ts';
import type { Operation } from '../../operation.ts';
import { failedWith } from '../../outcome.ts';
import { storedCodec } from '../../stored.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import { expiresAt } from '../bolt11.ts';
import { withIdentityBackend } from '../identity.ts';
import { lightningNoSpendIntent } from '../no-spend.ts';
import type { LightningDb } from '../tables.ts';
import {
  DEFAULT_INVOICE_EXPIRY_SECONDS,
  MAX_DESCRIPTION_BYTES,
  MAX_INVOICE_EXPIRY_SECONDS,
} from './limits.ts';
import { recordInvoice } from './made.ts';
import { type MakeInvoiceRequest, parseMakeInvoiceRequest } from './request.ts';

const NAME = 'lightning.make_invoice';
const msat = z.string().regex(/^(0|[1-9][0-9]{0,18})$/);

const digest = (p: MakeInvoiceRequest) =>
  requestDigest(NAME, {
    amountMsat: p.amountMsat.toString(),
    description: p.description,
    expirySeconds: p.expirySeconds,
  });

const { encode, decode } = storedCodec(
  'invoice',
  (p: MakeInvoiceRequest) => ({
    amount_msat: p.amountMsat.toString(),
    description: p.description,
    expiry_seconds: p.expirySeconds,
    idempotencyKey: p.idempotencyKey,
  }),
  parseMakeInvoiceRequest,
);

export const makeInvoiceOperation = {
  name: NAME,
  protocol: 'lightning',
  action: 'receive',
  capability: 'lightning:make_invoice',
  signer: 'lightning-credential',
  publishesNothing: true,
  destructive: false,
  http: { path: '/v1/lightning/make-invoice' },
  title: 'Make a Lightning invoice',
  description:
    'Makes a BOLT 11 invoice of the identity’s Lightning node for `amount_msat`, single use, expiring in ' +
    `\`expiry_seconds\` (default ${DEFAULT_INVOICE_EXPIRY_SECONDS}, at most ${MAX_INVOICE_EXPIRY_SECONDS}), with ` +
    'route hints for the node’s private channels. Nothing is paid or reserved. Only the identity that made it ' +
    'may look it up (lightning.lookup_invoice).',
  requestSchema: Object.freeze({
    ...z.toJSONSchema(
      z.strictObject({
        amount_msat: msat.describe('what the invoice asks for, msat (above 0)'),
        description: z
          .string()
          .max(MAX_DESCRIPTION_BYTES)
          .describe(`what the payer’s wallet shows; at most ${MAX_DESCRIPTION_BYTES} bytes of UTF-8`)
          .nullable()
          .optional(),
        expiry_seconds: z
          .number()
          .int()
          .min(1)
          .max(MAX_INVOICE_EXPIRY_SECONDS)
          .describe(`seconds until it expires (default ${DEFAULT_INVOICE_EXPIRY_SECONDS})`)
          .nullable()
          .optional(),
        idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional(),
      }),
    ),
    title: `${NAME} request`,
  }),
  resultSchema: Object.freeze({
    ...z.toJSONSchema(
      z.object({
        bolt11: z.string().describe('the invoice to hand to the payer'),
        paymentHash: z.string().regex(/^[0-9a-f]{64}$/),
        amountMsat: msat,
        expiresAt: z.string().describe('ISO 8601: when the invoice expires'),
        description: z.string(),
      }),
    ),
    title: `${NAME} result`,
  }),
  parse: (body) => parseMakeInvoiceRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest,
  toIntent: async (p, ctx) =>
    lightningNoSpendIntent(ctx, {
      action: 'receive',
      asset: 'btc:invoice',
      digest: digest(p),
      idempotencyKey: p.idempotencyKey,
      detail: {
        amountMsat: p.amountMsat.toString(),
        description: p.description,
        expirySeconds: p.expirySeconds,
      },
    }),
  review: (p, intent) => ({
    summary: `Make a Lightning invoice (${String(intent.detail.network)}) for ${p.amountMsat} msat, expiring in ${p.expirySeconds} s`,
    payload: {
      network: intent.detail.network ?? null,
      amountMsat: p.amountMsat.toString(),
      description: p.description,
      expirySeconds: p.expirySeconds,
    },
  }),
  encode,
  decode,
  async execute(p, _intent, ctx) {
    try {
      const made = await withIdentityBackend(ctx, (ln) =>
        ln.createInvoice({
          amountMsat: p.amountMsat,
          description: p.description,
          expirySeconds: p.expirySeconds,
        }),
      );
      const expires = new Date(expiresAt(made.invoice) * 1000).toISOString();
      await recordInvoice(ctx.tables, {
        payment_hash: made.paymentHash,
        identity: ctx.identity,
        request_id: ctx.requestId,
        amount_msat: p.amountMsat.toString(),
        bolt11: made.bolt11,
        created_at: new Date(made.invoice.timestamp * 1000).toISOString(),
        expires_at: expires,
      });
      return {
        status: 'done',
        result: {
          bolt11: made.bolt11,
          paymentHash: made.paymentHash,
          amountMsat: p.amountMsat.toString(),
          expiresAt: expires,
          description: p.description,
        },
      };
    } catch (err) {
      return failedWith(err, 'no invoice was made');
    }
  },
} satisfies Operation<MakeInvoiceRequest, LightningModuleBackend, 'lightning-credential', LightningDb>;
