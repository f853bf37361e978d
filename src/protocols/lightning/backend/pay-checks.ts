/**
 * The rules of paying and invoicing that hold whatever the backend (lnd-rest.ts, cln-rest.ts):
 * what a payment or an invoice may be asked for before anything is sent, what a payment once sent
 * is expected to report, and which errors after sending still prove that nothing was paid. A
 * doubtful answer after the payment left is OUTCOME_UNKNOWN: its reservation stays until reconciled.
 */
import { WardenError } from '../../../core/errors.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import { type Bolt11Invoice, checkPayable, decodeBolt11, MAX_AMOUNT_MSAT } from '../bolt11.ts';
import { type BackendName, rejectedBy } from './answers.ts';
import type { NewInvoice, PaymentState, PayOptions } from './backend.ts';

/** How long `pay` follows a payment past its timeout before it answers `in_flight`. */
export const FOLLOW_GRACE_MS = 30_000;
/** Warden's invoices are short-lived: at most a day, ten minutes unless asked. */
export const MAX_INVOICE_EXPIRY_SECONDS = 86_400;
/** BOLT 11: a description fits in 639 bytes (1023 five-bit words). */
export const MAX_DESCRIPTION_BYTES = 639;
const INT64_MAX = 2n ** 63n - 1n;

export function invalid(message: string, details: Record<string, string | number> = {}): WardenError {
  return new WardenError('INVALID_REQUEST', message, { protocol: 'lightning', ...details });
}

/** A doubtful answer after the payment was handed to the backend: it may have been paid. */
export function outcomeUnknown(err: WardenError): WardenError {
  return new WardenError(
    'OUTCOME_UNKNOWN',
    `the payment may have been made: ${err.message}`,
    { protocol: 'lightning', backendCode: err.code, reason: err.details.reason ?? null },
    { cause: err },
  );
}

export interface Expected {
  paymentHash: string;
  /** What the invoice (or the payer, for an invoice without one) says is paid; null: unknown (track). */
  amountMsat: bigint | null;
  /** The fee limit the payment was sent with; null: unknown (track). */
  feeLimitMsat: bigint | null;
}

export interface CheckedPayment {
  invoice: Bolt11Invoice;
  expected: Expected & { amountMsat: bigint; feeLimitMsat: bigint };
  /** performance.now() ms after which `pay` answers `in_flight`. */
  deadline: number;
}

/** The fee limit and timeout every payment (an invoice's, a keysend) is sent with, checked first. */
export function checkSendLimits(o: { feeLimitSat: bigint; timeoutSeconds: number }): void {
  if (typeof o.feeLimitSat !== 'bigint' || o.feeLimitSat < 0n || o.feeLimitSat > INT64_MAX / 1000n)
    throw invalid('the fee limit is not an amount of sat');
  if (!Number.isSafeInteger(o.timeoutSeconds) || o.timeoutSeconds < 1 || o.timeoutSeconds > 3600)
    throw invalid('the payment timeout must be 1 to 3600 seconds', {
      timeoutSeconds: String(o.timeoutSeconds),
    });
}

/** performance.now() ms after which a payment's call answers `in_flight`. */
export function payDeadline(o: { timeoutSeconds: number; waitMs?: number }): number {
  return performance.now() + (o.waitMs ?? o.timeoutSeconds * 1000 + FOLLOW_GRACE_MS);
}

/** Everything a payment is refused for before it is sent (INVALID_INVOICE, INVALID_REQUEST, INVALID_AMOUNT). */
export function checkPayment(bolt11: string, o: PayOptions, network: BitcoinNetwork): CheckedPayment {
  const invoice = decodeBolt11(bolt11);
  checkPayable(invoice, network, new Date());
  checkSendLimits(o);
  if (invoice.amountMsat !== null && o.amountMsat !== undefined && o.amountMsat !== invoice.amountMsat)
    throw invalid('the invoice names its amount; another is not paid');
  const amountMsat = invoice.amountMsat ?? o.amountMsat;
  if (amountMsat === undefined || amountMsat <= 0n || amountMsat > MAX_AMOUNT_MSAT)
    throw new WardenError('INVALID_AMOUNT', 'the invoice names no amount: say how much, in msat', {
      protocol: 'lightning',
    });
  return {
    invoice,
    expected: { paymentHash: invoice.paymentHash, amountMsat, feeLimitMsat: o.feeLimitSat * 1000n },
    deadline: payDeadline(o),
  };
}

/** An invoice Warden may ask its node for: a positive amount, a description that fits, a short expiry. */
export function checkNewInvoice(request: NewInvoice): void {
  const { amountMsat, description, expirySeconds } = request;
  if (typeof amountMsat !== 'bigint' || amountMsat <= 0n || amountMsat > MAX_AMOUNT_MSAT)
    throw new WardenError('INVALID_AMOUNT', 'an invoice asks for a positive amount of msat', {
      protocol: 'lightning',
    });
  if (new TextEncoder().encode(description).length > MAX_DESCRIPTION_BYTES)
    throw invalid(`an invoice's description fits in ${MAX_DESCRIPTION_BYTES} bytes`);
  if (!Number.isSafeInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_INVOICE_EXPIRY_SECONDS)
    throw invalid(`an invoice expires within 1 to ${MAX_INVOICE_EXPIRY_SECONDS} seconds`);
}

/** The invoice a backend made is the one asked for, on the identity's network. */
export function madeAsAsked(
  invoice: Bolt11Invoice,
  paymentHash: string,
  request: NewInvoice,
  network: BitcoinNetwork,
): boolean {
  return (
    invoice.paymentHash === paymentHash &&
    invoice.amountMsat === request.amountMsat &&
    invoice.expirySeconds === request.expirySeconds &&
    invoice.network === network &&
    invoice.description === request.description
  );
}

/**
 * What an error raised while handing a payment to the backend means:
 * - `refused`: the backend said no before starting, or nothing left this machine: not paid, rethrow;
 * - `follow`: the answer was lost on the way (the backend did not answer in time, a cut
 *   connection): follow the payment by its hash;
 * - `unknown`: a malformed or oversized answer: the payment may have been made (OUTCOME_UNKNOWN).
 */
export function afterSending(err: unknown): 'refused' | 'follow' | 'unknown' {
  if (!(err instanceof WardenError)) return 'unknown';
  if (err.code === 'BACKEND_UNREACHABLE') return err.details.sent === false ? 'refused' : 'follow';
  if (err.code === 'LIGHTNING_PAYMENT_EXISTS' || err.code === 'LIGHTNING_BACKEND_AUTH') return 'refused';
  if (err.code === 'BACKEND_REJECTED')
    return err.details.reason === 'malformed' || err.details.reason === 'too_large' ? 'unknown' : 'refused';
  return 'unknown';
}

/**
 * Hands a payment over (`send`: its final state, or null when its answer did not say) and, unless
 * it certainly was not paid, follows it by its hash to its end or the deadline (`follow`: null when
 * the backend has no such payment). What certainly did not leave, or the backend refused before
 * starting, is thrown as it is; every doubt after that is OUTCOME_UNKNOWN, never failed.
 */
export async function sendThenFollow(
  backend: BackendName,
  send: () => Promise<PaymentState | null>,
  follow: () => Promise<PaymentState | null>,
): Promise<PaymentState> {
  try {
    const sent = await send();
    if (sent) return sent;
  } catch (err) {
    if (!(err instanceof WardenError)) throw err;
    const meaning = afterSending(err);
    if (meaning === 'refused') throw err;
    if (meaning === 'unknown') throw outcomeUnknown(err);
  }
  try {
    const followed = await follow();
    if (followed === null)
      throw outcomeUnknown(
        rejectedBy(backend, 'the payment', {
          reason: 'not_found',
          message: `${backend} has no such payment`,
        }),
      );
    return followed;
  } catch (err) {
    if (err instanceof WardenError && err.code !== 'OUTCOME_UNKNOWN') throw outcomeUnknown(err);
    throw err;
  }
}
