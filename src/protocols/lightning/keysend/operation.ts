/**
 * `lightning.keysend`: pays a node by its id without an invoice (a spontaneous payment). Its own
 * operation and capability (`lightning:keysend`), never implied by pay_invoice, and its own policy
 * facet value (`payment: keysend`, opt-in: only a rule that names it allows one). Warden draws the
 * 32-byte preimage from the CSPRNG at execution; its hash is claimed (payments.ts, the table
 * pay_invoice claims in) and recorded before the payment leaves, so a crash is followed by the
 * hash like any payment (pay/reconcile.ts), and no hash is ever sent twice. The amount and the fee
 * limit are reserved, the fee paid committed, a failure released (pay/execute.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { IDEMPOTENCY_KEY } from '../../../core/validate.ts';
import { requestDigest } from '../../no-spend.ts';
import type { Operation } from '../../operation.ts';
import { storedCodec } from '../../stored.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import { checkCredential, requireBackend } from '../identity.ts';
import { executePayment, type PayRecord } from '../pay/execute.ts';
import { feeLimitSat } from '../pay/fee-limit.ts';
import { paymentIntent } from '../pay/intent.ts';
import { baseUnits, feeLimitField, paymentResultBody } from '../pay/schemas.ts';
import type { LightningDb } from '../tables.ts';
import { type KeysendRequest, parseKeysendRequest } from './request.ts';

const NAME = 'lightning.keysend';

/** The module's part of the intent (plain JSON, amounts as strings). */
export type KeysendDetail = {
  network: string;
  payee: string;
  amountMsat: string;
  feeLimitSat: string;
};

const digest = (p: KeysendRequest) =>
  requestDigest(NAME, {
    destination: p.destination,
    amountMsat: p.amountMsat.toString(),
    feeLimitSat: p.feeLimitSat === null ? null : p.feeLimitSat.toString(),
  });

const { encode, decode } = storedCodec(
  'keysend',
  (p: KeysendRequest) => ({
    destination: p.destination,
    amount_msat: p.amountMsat.toString(),
    fee_limit_sat: p.feeLimitSat === null ? null : p.feeLimitSat.toString(),
    idempotencyKey: p.idempotencyKey,
  }),
  parseKeysendRequest,
);

export const keysendOperation = {
  name: NAME,
  protocol: 'lightning',
  action: 'pay',
  capability: 'lightning:keysend',
  signer: 'lightning-credential',
  http: { path: '/v1/lightning/keysend' },
  title: 'Pay a Lightning node by keysend',
  description:
    'Pays `amount_msat` to a Lightning node by its id, without an invoice (keysend), through the configured ' +
    'backend. Warden draws the preimage; the payment hash is paid once. The amount (msat rounded up to the sat) ' +
    'and the fee limit (`fee_limit_sat`, default 1 % with a floor of 10 sat) count against the budgets; once ' +
    'paid, the fee actually paid replaces the limit. Only a policy rule naming `payment: keysend` allows it. ' +
    'A payment whose end is not known in time is `unknown` until reconcile follows it.',
  requestSchema: Object.freeze({
    ...z.toJSONSchema(
      z.strictObject({
        destination: z
          .string()
          .regex(/^0[23][0-9a-f]{64}$/)
          .describe('the payee’s node id: a compressed secp256k1 key, lower-case hex'),
        amount_msat: baseUnits('msat to pay (above 0)'),
        fee_limit_sat: feeLimitField,
        idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional(),
      }),
    ),
    title: `${NAME} request`,
  }),
  resultSchema: Object.freeze({
    ...z.toJSONSchema(paymentResultBody),
    title: `${NAME} result`,
  }),
  parse: (body) => parseKeysendRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest,
  async toIntent(p, ctx) {
    checkCredential(ctx.publicKeys, ctx.backend);
    const backend = requireBackend(ctx.backend);
    const fee = feeLimitSat(p.amountMsat, p.feeLimitSat);
    const detail: KeysendDetail = {
      network: ctx.publicKeys.network,
      payee: p.destination,
      amountMsat: p.amountMsat.toString(),
      feeLimitSat: fee.toString(),
    };
    return paymentIntent({
      payment: 'keysend',
      identity: ctx.identity,
      payee: p.destination,
      amountMsat: p.amountMsat,
      feeLimitSat: fee,
      digest: digest(p),
      idempotencyKey: p.idempotencyKey,
      detail,
      backend,
    });
  },
  review(_p, intent) {
    const d = intent.detail as KeysendDetail;
    return {
      summary: `Keysend ${d.amountMsat} msat over Lightning (${d.network}) to ${d.payee}, fee at most ${d.feeLimitSat} sat`,
      payload: { network: d.network, payee: d.payee, amountMsat: d.amountMsat, maxFeeSat: d.feeLimitSat },
    };
  },
  encode,
  decode,
  async execute(_p, intent, ctx) {
    const d = intent.detail as KeysendDetail;
    // Drawn here, once: a retry of this request (or a restart) never reuses it; the hash is on
    // record before it leaves, and the preimage comes back from the backend as the proof.
    const preimage = randomBytes(32);
    try {
      const record: PayRecord = {
        paymentHash: bytesToHex(sha256(preimage)),
        network: d.network,
        payee: d.payee,
        amountMsat: d.amountMsat,
        feeLimitSat: d.feeLimitSat,
        keysend: true,
      };
      return await executePayment(ctx, record, (ln, backend) =>
        ln.keysend({
          destination: d.payee,
          amountMsat: BigInt(d.amountMsat),
          preimage,
          feeLimitSat: BigInt(d.feeLimitSat),
          timeoutSeconds: backend.timeoutSeconds,
          waitMs: backend.waitSeconds * 1000,
        }),
      );
    } finally {
      preimage.fill(0);
    }
  },
} satisfies Operation<KeysendRequest, LightningModuleBackend, 'lightning-credential', LightningDb>;
