/**
 * `lightning.lookup_invoice`: the invoice the identity made through Warden, and its state (open,
 * accepted: an HTLC held, settled, canceled: expired or refused), what was paid and when. Only the
 * identity's own invoices (invoice/made.ts): another's and an unknown hash both answer
 * LIGHTNING_INVOICE_UNKNOWN, before the node is asked. The preimage is shown only once settled:
 * before that it is what would let anyone take the payment.
 */
import { z } from 'zod';
import { IDEMPOTENCY_KEY } from '../../../core/validate.ts';
import { requestDigest } from '../../no-spend.ts';
import type { Operation } from '../../operation.ts';
import { failedWith } from '../../outcome.ts';
import { storedCodec } from '../../stored.ts';
import type { InvoiceState } from '../backend/backend.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import { decodeBolt11 } from '../bolt11.ts';
import { withIdentityBackend } from '../identity.ts';
import { lightningNoSpendIntent } from '../no-spend.ts';
import type { LightningDb, LightningInvoiceTable } from '../tables.ts';
import { ownInvoice } from './made.ts';
import { type LookupInvoiceRequest, parseLookupInvoiceRequest } from './request.ts';

const NAME = 'lightning.lookup_invoice';
const hash = z.string().regex(/^[0-9a-f]{64}$/);
const msat = z.string().regex(/^[0-9]+$/);

const digest = (p: LookupInvoiceRequest) => requestDigest(NAME, { paymentHash: p.paymentHash });

const { encode, decode } = storedCodec(
  'invoice lookup',
  (p: LookupInvoiceRequest) => ({ payment_hash: p.paymentHash, idempotencyKey: p.idempotencyKey }),
  parseLookupInvoiceRequest,
);

/** What the agent sees: the node's state of the invoice and Warden's record of it. */
function resultOf(state: InvoiceState, row: LightningInvoiceTable): Record<string, unknown> {
  const common = {
    paymentHash: state.paymentHash,
    state: state.state,
    amountMsat: state.amountMsat.toString(),
    bolt11: row.bolt11,
    description: decodeBolt11(row.bolt11).description ?? '',
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
  if (state.state !== 'settled') return common;
  return {
    ...common,
    paidMsat: state.paidMsat.toString(),
    preimage: state.preimage,
    ...(state.settledAt === undefined ? {} : { settledAt: new Date(state.settledAt * 1000).toISOString() }),
  };
}

export const lookupInvoiceOperation = {
  name: NAME,
  protocol: 'lightning',
  action: 'read',
  capability: 'lightning:lookup_invoice',
  signer: 'lightning-credential',
  publishesNothing: true,
  readOnly: true,
  http: { path: '/v1/lightning/lookup-invoice' },
  title: 'Look up a Lightning invoice',
  description:
    'The state of an invoice this identity made with lightning.make_invoice, by its payment hash: open, ' +
    'accepted (a payment held, not yet settled), settled (with the amount paid, when, and the preimage) or ' +
    'canceled. Invoices made otherwise, or by another identity, are LIGHTNING_INVOICE_UNKNOWN.',
  requestSchema: Object.freeze({
    ...z.toJSONSchema(
      z.strictObject({
        payment_hash: hash.describe('the invoice’s payment hash, 64 lower-case hex digits'),
        idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional(),
      }),
    ),
    title: `${NAME} request`,
  }),
  resultSchema: Object.freeze({
    ...z.toJSONSchema(
      z.object({
        paymentHash: hash,
        state: z.enum(['open', 'accepted', 'settled', 'canceled']),
        amountMsat: msat,
        bolt11: z.string().describe('the invoice as made'),
        description: z.string(),
        createdAt: z.string(),
        expiresAt: z.string(),
        paidMsat: msat.describe('settled only: what was paid (at least the amount)').optional(),
        settledAt: z.string().describe('settled only, where the node says when').optional(),
        preimage: hash.describe('settled only: the proof the payer holds').optional(),
      }),
    ),
    title: `${NAME} result`,
  }),
  parse: (body) => parseLookupInvoiceRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest,
  async toIntent(p, ctx) {
    // Refused before any row: nothing about another identity's invoice, not even that it exists.
    if (ctx.tables) await ownInvoice(ctx.tables, ctx.identity, p.paymentHash);
    return lightningNoSpendIntent(ctx, {
      action: 'read',
      asset: 'btc:invoice',
      digest: digest(p),
      idempotencyKey: p.idempotencyKey,
      detail: { paymentHash: p.paymentHash },
    });
  },
  review: (p, intent) => ({
    summary: `Look up the Lightning invoice ${p.paymentHash} (${String(intent.detail.network)})`,
    payload: { network: intent.detail.network ?? null, paymentHash: p.paymentHash },
  }),
  encode,
  decode,
  async execute(p, _intent, ctx) {
    try {
      const row = await ownInvoice(ctx.tables, ctx.identity, p.paymentHash);
      const state = await withIdentityBackend(ctx, (ln) => ln.lookupInvoice(p.paymentHash));
      if (state === null)
        return {
          status: 'failed',
          code: 'LIGHTNING_INVOICE_UNKNOWN',
          message: 'the node no longer has this invoice',
        };
      return { status: 'done', result: resultOf(state, row) };
    } catch (err) {
      return failedWith(err, 'the invoice could not be looked up');
    }
  },
} satisfies Operation<LookupInvoiceRequest, LightningModuleBackend, 'lightning-credential', LightningDb>;
