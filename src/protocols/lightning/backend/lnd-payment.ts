/**
 * lnd's Payment message (SendPaymentV2 and TrackPaymentV2 updates), checked before it is believed.
 * A payment is `succeeded` only when its preimage hashes to the payment hash asked about; every
 * amount is a decimal int64 string (as lnd writes them) read into bigint msat, its sat twin
 * consistent with it; the amount paid is the invoice's and the fee within the limit set. Anything
 * else of a final answer is malformed: an answer that cannot be believed is not an outcome.
 */
import { isHash, isRecord, opens } from './answers.ts';
import type { PaymentFailure, PaymentState } from './backend.ts';
import { malformed } from './lnd-request.ts';
import type { Expected } from './pay-checks.ts';

const INT64_MAX = 2n ** 63n - 1n;

/** A non-negative int64 as lnd writes it: a decimal string. Numbers are refused (floats lie). */
export function amountOf(value: unknown, what: string, field: string): bigint {
  if (typeof value !== 'string' || !/^\d{1,19}$/.test(value))
    throw malformed(what, `${field} is not an amount`);
  const amount = BigInt(value);
  if (amount > INT64_MAX) throw malformed(what, `${field} is out of range`);
  return amount;
}

/** `sat` must be `msat` rounded down, as lnd derives it. */
export function checkSatOf(msat: bigint, sat: unknown, what: string, field: string): void {
  if (amountOf(sat, what, field) !== msat / 1000n) throw malformed(what, `${field} disagrees with its msat`);
}

const FAILURES: Readonly<Record<string, PaymentFailure>> = {
  FAILURE_REASON_TIMEOUT: 'timeout',
  FAILURE_REASON_NO_ROUTE: 'no_route',
  FAILURE_REASON_ERROR: 'error',
  FAILURE_REASON_INCORRECT_PAYMENT_DETAILS: 'incorrect_payment_details',
  FAILURE_REASON_INSUFFICIENT_BALANCE: 'insufficient_balance',
  FAILURE_REASON_CANCELED: 'canceled',
};

export function paymentOf(value: unknown, expected: Expected, what: string): PaymentState {
  if (!isRecord(value)) throw malformed(what, 'not a Payment');
  if (value.payment_hash !== expected.paymentHash) throw malformed(what, 'an update of another payment');
  const paymentHash = expected.paymentHash;
  const preimage = value.payment_preimage;
  // lnd writes 64 zeros until the preimage is known; a real one never opens a hash by accident.
  const proven = isHash(preimage) && opens(preimage, paymentHash);
  switch (value.status) {
    case 'UNKNOWN':
    case 'INITIATED':
    case 'IN_FLIGHT':
      if (proven) throw malformed(what, 'a payment in flight with its preimage');
      return { status: 'in_flight', paymentHash };
    case 'FAILED': {
      if (proven) throw malformed(what, 'a failed payment with its preimage');
      const reason = typeof value.failure_reason === 'string' ? FAILURES[value.failure_reason] : undefined;
      if (!reason) throw malformed(what, 'a failed payment without a failure reason');
      return { status: 'failed', paymentHash, reason };
    }
    case 'SUCCEEDED': {
      if (!isHash(preimage)) throw malformed(what, 'a succeeded payment without a preimage');
      if (!proven) throw malformed(what, 'a preimage that does not open the payment hash');
      const amountMsat = amountOf(value.value_msat, what, 'value_msat');
      const feeMsat = amountOf(value.fee_msat, what, 'fee_msat');
      checkSatOf(amountMsat, value.value_sat, what, 'value_sat');
      checkSatOf(feeMsat, value.fee_sat, what, 'fee_sat');
      if (expected.amountMsat !== null && amountMsat !== expected.amountMsat)
        throw malformed(what, 'an amount paid other than the invoice’s');
      if (expected.feeLimitMsat !== null && feeMsat > expected.feeLimitMsat)
        throw malformed(what, 'a fee above the limit it was given');
      return { status: 'succeeded', paymentHash, preimage, amountMsat, feeMsat };
    }
    default:
      throw malformed(what, 'an unknown payment status');
  }
}
