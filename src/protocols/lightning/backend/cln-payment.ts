/**
 * Core Lightning's payments as Warden believes them: `pay`'s answer and `listpays`'s entries of
 * one payment hash. `succeeded` only with a preimage that opens the hash, the amount delivered
 * the invoice's and the fee (amount_sent_msat − amount_msat) within the limit it was sent with;
 * any other shape of a final answer is malformed. CLN lists one entry per attempt group of a
 * hash: one complete is the outcome, else one pending keeps it in flight, else all failed.
 */
import { isHash, isRecord, opens } from './answers.ts';
import type { PaymentFailure, PaymentState } from './backend.ts';
import { malformed, msatOf } from './cln-request.ts';
import type { Expected } from './pay-checks.ts';

/** pay's and xpay's error codes (common/jsonrpc_errors.h) that end a payment with nothing paid. */
export const FAILURES: Readonly<Record<number, PaymentFailure>> = {
  203: 'incorrect_payment_details', // PAY_DESTINATION_PERM_FAIL
  205: 'no_route', // PAY_ROUTE_NOT_FOUND
  206: 'no_route', // PAY_ROUTE_TOO_EXPENSIVE: no route within maxfee
  207: 'timeout', // PAY_INVOICE_EXPIRED
  209: 'error', // PAY_UNSPECIFIED_ERROR
  210: 'timeout', // PAY_STOPPED_RETRYING: retry_for passed, nothing in flight
  215: 'insufficient_balance', // PAY_INSUFFICIENT_FUNDS
  216: 'no_route', // PAY_UNREACHABLE
  220: 'no_route', // PAY_DESTINATION_INSUFFICIENT_CAPACITY
};

/** A complete payment, checked: the preimage proves it, the amounts are the ones asked for. */
function succeeded(
  entry: Record<string, unknown>,
  preimageField: 'payment_preimage' | 'preimage',
  expected: Expected,
  what: string,
): PaymentState {
  const preimage = entry[preimageField];
  if (!isHash(preimage)) throw malformed(what, 'a complete payment without a preimage');
  if (!opens(preimage, expected.paymentHash))
    throw malformed(what, 'a preimage that does not open the payment hash');
  const amountMsat = msatOf(entry.amount_msat, what, 'amount_msat');
  const sentMsat = msatOf(entry.amount_sent_msat, what, 'amount_sent_msat');
  if (sentMsat < amountMsat) throw malformed(what, 'less sent than delivered');
  const feeMsat = sentMsat - amountMsat;
  if (expected.amountMsat !== null && amountMsat !== expected.amountMsat)
    throw malformed(what, 'an amount paid other than the invoice’s');
  if (expected.feeLimitMsat !== null && feeMsat > expected.feeLimitMsat)
    throw malformed(what, 'a fee above the limit it was given');
  return { status: 'succeeded', paymentHash: expected.paymentHash, preimage, amountMsat, feeMsat };
}

/** pay's answer; null when it is not final (pending, or failed without its reason: ask listpays). */
export function paymentOfPay(value: Record<string, unknown>, expected: Expected, what: string) {
  if (value.payment_hash !== expected.paymentHash) throw malformed(what, 'an answer about another payment');
  switch (value.status) {
    case 'complete':
      return succeeded(value, 'payment_preimage', expected, what);
    case 'pending':
    case 'failed':
      if (isHash(value.payment_preimage) && opens(value.payment_preimage, expected.paymentHash))
        throw malformed(what, 'a payment not complete with its preimage');
      return null;
    default:
      throw malformed(what, 'an unknown payment status');
  }
}

/**
 * listpays's answer for one hash: null when CLN has no payment of it; `failed` (reason `error`:
 * listpays does not say why, the caller may know better) when every attempt failed, with the
 * newest attempt's `created_at`: while `pay` retries (for `retry_for` seconds) every attempt so
 * far may have failed and the next one not be listed yet, so the caller judges when it is over.
 */
export function paymentOfPays(
  value: Record<string, unknown>,
  expected: Expected,
  what: string,
): { state: PaymentState; newestAt: number } | null {
  if (!Array.isArray(value.pays)) throw malformed(what, 'pays is not a list');
  const pays = value.pays as unknown[];
  if (pays.length === 0) return null;
  let complete: Record<string, unknown> | null = null;
  let pending = false;
  let newestAt = 0;
  for (const p of pays) {
    if (!isRecord(p)) throw malformed(what, 'a payment that is not an object');
    if (p.payment_hash !== expected.paymentHash) throw malformed(what, 'a payment of another hash');
    if (!Number.isSafeInteger(p.created_at) || (p.created_at as number) < 0)
      throw malformed(what, 'created_at is not a time');
    newestAt = Math.max(newestAt, p.created_at as number);
    const proven = isHash(p.preimage) && opens(p.preimage, expected.paymentHash);
    if (p.status === 'complete') {
      if (complete) throw malformed(what, 'two complete payments of one hash');
      complete = p;
    } else if (p.status === 'pending' || p.status === 'failed') {
      if (proven) throw malformed(what, 'a payment not complete with its preimage');
      pending ||= p.status === 'pending';
    } else throw malformed(what, 'an unknown payment status');
  }
  const paymentHash = expected.paymentHash;
  if (complete) return { state: succeeded(complete, 'preimage', expected, what), newestAt };
  if (pending) return { state: { status: 'in_flight', paymentHash }, newestAt };
  return { state: { status: 'failed', paymentHash, reason: 'error' }, newestAt };
}
