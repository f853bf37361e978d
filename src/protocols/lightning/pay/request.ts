/**
 * The hostile JSON body of `POST /v1/lightning/pay-invoice`:
 *
 *   { invoice: "lnbcrt…", amount_msat?: "21000", fee_limit_sat?: "10", idempotencyKey?: string }
 *
 * The invoice is decoded and checked first (bolt11.ts: checksum, signature and payee, payment hash
 * and secret, features) and, when a clock is given, refused once expired; its network is the
 * identity's, checked in the intent. An invoice without an amount needs `amount_msat`; one with an
 * amount takes none but its own. Amounts are decimal strings (core/validate.ts).
 */
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import { jsonType, optionalIdempotencyKey, parseHostile, readBody } from '../../../core/validate.ts';
import { parseAmountMsat, parseFeeLimitSat } from '../amounts.ts';
import { type Bolt11Invoice, decodeBolt11, expiresAt } from '../bolt11.ts';

export const PAY_FIELDS = ['invoice', 'amount_msat', 'fee_limit_sat', 'idempotencyKey'] as const;

export interface PayRequest {
  /** The invoice as paid: lower case, without a `lightning:` prefix. */
  invoice: string;
  decoded: Bolt11Invoice;
  /** What is paid, msat: the invoice's amount, or the request's for an invoice without one. */
  amountMsat: bigint;
  /** `amount_msat` as the request gave it (null: absent). */
  givenAmountMsat: bigint | null;
  /** `fee_limit_sat` as the request gave it (null: the default, fee-limit.ts). */
  feeLimitSat: bigint | null;
  idempotencyKey: string | null;
}

function fail(code: 'INVALID_REQUEST' | 'INVALID_AMOUNT', message: string, details: ErrorDetails): never {
  throw new WardenError(code, message, details);
}

/** `now` null: a stored request read back (it may have expired while held; execution refuses it then). */
export function parsePayRequest(body: unknown, now: Date | null): PayRequest {
  return parseHostile(() => {
    const get = readBody(body, PAY_FIELDS);
    const raw = get('invoice');
    if (typeof raw !== 'string')
      fail('INVALID_REQUEST', 'invoice must be a BOLT 11 invoice (text)', {
        field: 'invoice',
        type: jsonType(raw),
      });
    const decoded = decodeBolt11(raw);
    const text = raw.slice(0, 10).toLowerCase() === 'lightning:' ? raw.slice(10) : raw;
    if (now !== null && Math.floor(now.getTime() / 1000) >= expiresAt(decoded))
      throw new WardenError('INVALID_INVOICE', 'the invoice has expired', {
        reason: 'expired',
        expiredAt: new Date(expiresAt(decoded) * 1000).toISOString(),
      });
    const amount = get('amount_msat');
    const givenAmountMsat = amount === undefined || amount === null ? null : parseAmountMsat(amount);
    if (decoded.amountMsat === null && givenAmountMsat === null)
      fail('INVALID_AMOUNT', 'the invoice names no amount: give amount_msat', { field: 'amount_msat' });
    if (decoded.amountMsat !== null && givenAmountMsat !== null && givenAmountMsat !== decoded.amountMsat)
      fail('INVALID_AMOUNT', 'amount_msat must be the invoice’s own amount', {
        field: 'amount_msat',
        invoiceAmountMsat: decoded.amountMsat.toString(),
      });
    return {
      invoice: text.toLowerCase(),
      decoded,
      amountMsat: (decoded.amountMsat ?? givenAmountMsat)!,
      givenAmountMsat,
      feeLimitSat: parseFeeLimitSat(get('fee_limit_sat')),
      idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')),
    };
  });
}
