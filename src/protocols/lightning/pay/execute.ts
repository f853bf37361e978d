/**
 * Paying a judged invoice (or a keysend: keysend/execute.ts): its hash claimed (lightning_payment) in the transaction that records the
 * payment before it leaves, then handed to the backend with the fee limit booked and a timeout,
 * under the identity's credential lent for this call. Succeeded (a preimage that opens the hash) →
 * done, the fee paid booked; certainly not paid → failed, released; anything else → unknown, kept
 * reserved, and reconcile follows the hash.
 */
import { type ErrorCode, isWardenError } from '../../../core/errors.ts';
import type { Intent } from '../../../core/intent.ts';
import type { BackendCredential } from '../../../keys/capabilities.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import type { ExecutionContext, ExecutionOutcome } from '../../operation.ts';
import type { LightningBackend, PaymentState } from '../backend/backend.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import { readAfterPayment } from '../monitor/hook.ts';
import { claim, settleClaim } from '../payments.ts';
import type { LightningDb } from '../tables.ts';
import { satCeil } from './fee-limit.ts';
import type { PayDetail } from './intent.ts';
import type { PayRequest } from './request.ts';

/** What is on record before the payment leaves: reconcile follows the hash with it. */
export interface PayRecord extends Record<string, unknown> {
  paymentHash: string;
  network: string;
  payee: string;
  amountMsat: string;
  feeLimitSat: string;
}

/** What a done payment returns: the preimage is the proof it was paid. */
export interface PaidResult extends PayRecord {
  preimage: string;
  feeMsat: string;
  /** The fee as booked: msat rounded up to the sat. */
  feeSat: string;
}

/** Codes of a payment the backend certainly did not make (nothing left, or the node refused to start). */
const NOT_PAID: ReadonlySet<string> = new Set([
  'INVALID_INVOICE',
  'INVALID_REQUEST',
  'INVALID_AMOUNT',
  'KEY_NOT_ACTIVE',
  'LIGHTNING_PAYMENT_EXISTS',
  'LIGHTNING_BACKEND_AUTH',
  'BACKEND_REJECTED',
]);

export function certainlyNotPaid(err: unknown): boolean {
  if (!isWardenError(err)) return false;
  if (err.code === 'BACKEND_UNREACHABLE') return err.details.sent === false;
  return NOT_PAID.has(err.code);
}

const failed = (code: ErrorCode, message: string): ExecutionOutcome => ({ status: 'failed', code, message });

/** The outcome of a payment's final (or not yet final) state. */
export function outcomeOf(state: PaymentState, record: PayRecord): ExecutionOutcome {
  switch (state.status) {
    case 'succeeded': {
      const result: PaidResult = {
        ...record,
        preimage: state.preimage,
        feeMsat: state.feeMsat.toString(),
        feeSat: satCeil(state.feeMsat).toString(),
      };
      return { status: 'done', result, spent: { fee: satCeil(state.feeMsat), valueMoved: true } };
    }
    case 'failed':
      return failed('LIGHTNING_PAYMENT_FAILED', `the payment failed (${state.reason}); nothing was paid`);
    case 'in_flight':
      return {
        status: 'unknown',
        code: 'OUTCOME_UNKNOWN',
        message: 'the payment is still in flight; reconcile follows it by its hash',
        result: record,
      };
  }
}

/**
 * Pays one payment whose hash is known before it leaves (an invoice's, or a keysend's Warden
 * drew): the hash claimed and the record kept in one transaction, then `send` with the lent
 * credential; its end (or doubt) becomes the outcome, the claim settled when the end is known.
 */
export async function executePayment(
  ctx: ExecutionContext<LightningModuleBackend, BackendCredential, LightningDb>,
  record: PayRecord,
  send: (ln: LightningBackend, backend: LightningModuleBackend) => Promise<PaymentState>,
): Promise<ExecutionOutcome> {
  const backend = ctx.backend;
  if (!backend) return failed('BACKEND_UNREACHABLE', 'no Lightning backend is configured; nothing was paid');
  if (!(await ctx.stillExecuting())) return failed('REQUEST_NOT_PENDING', 'no longer executing');
  try {
    await ctx.recordBeforeSend(record, (t) =>
      claim(t, record.paymentHash, ctx.identity, ctx.requestId, new Date().toISOString()),
    );
  } catch (err) {
    return failed(
      isWardenError(err) ? err.code : 'INTERNAL',
      'the payment hash was not claimed; nothing was paid',
    );
  }
  const end = (status: 'succeeded' | 'failed') =>
    settleClaim(ctx.tables, ctx.requestId, status, new Date().toISOString());
  let state: PaymentState;
  try {
    state = await backend.withBackend(ctx.identity, record.network as BitcoinNetwork, ctx.signer, (ln) =>
      send(ln, backend)
        // The channels it changed, read with the credential still lent: the next payment's facts.
        .finally(() => readAfterPayment(backend, ln)),
    );
  } catch (err) {
    if (certainlyNotPaid(err)) {
      await end('failed');
      return failed(isWardenError(err) ? err.code : 'INTERNAL', 'the backend did not make the payment');
    }
    return {
      status: 'unknown',
      code: isWardenError(err) ? err.code : 'OUTCOME_UNKNOWN',
      message: 'the payment may have been made; reconcile follows it by its hash',
      result: record,
    };
  }
  if (state.status !== 'in_flight') await end(state.status);
  return outcomeOf(state, record);
}

export function executePay(
  p: PayRequest,
  intent: Intent,
  ctx: ExecutionContext<LightningModuleBackend, BackendCredential, LightningDb>,
): Promise<ExecutionOutcome> {
  const d = intent.detail as PayDetail;
  const record: PayRecord = {
    paymentHash: d.paymentHash,
    network: d.network,
    payee: d.payee,
    amountMsat: d.amountMsat,
    feeLimitSat: d.feeLimitSat,
  };
  return executePayment(ctx, record, (ln, backend) =>
    ln.pay(p.invoice, {
      feeLimitSat: BigInt(d.feeLimitSat),
      timeoutSeconds: backend.timeoutSeconds,
      waitMs: backend.waitSeconds * 1000,
      ...(p.decoded.amountMsat === null ? { amountMsat: p.amountMsat } : {}),
    }),
  );
}
