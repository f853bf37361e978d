/**
 * The hostile JSON bodies of the receive side:
 *
 *   make-invoice    { amount_msat: "21000", description?: text, expiry_seconds?: 1..86400, idempotencyKey? }
 *   lookup-invoice  { payment_hash: 64 lower-case hex, idempotencyKey? }
 *
 * An invoice always names its amount (a single-use request for a known sum: an agent that wants
 * "any amount" is handed nothing it cannot budget); its description is what the payer's wallet
 * shows, at most what BOLT 11 holds; it expires in ten minutes unless asked, in a day at most.
 */
import { utf8 } from '../../../core/bytes.ts';
import { WardenError } from '../../../core/errors.ts';
import {
  jsonType,
  optionalIdempotencyKey,
  parseHostile,
  readBody,
  requireFields,
} from '../../../core/validate.ts';
import { parseAmountMsat } from '../amounts.ts';
import {
  DEFAULT_INVOICE_EXPIRY_SECONDS,
  MAX_DESCRIPTION_BYTES,
  MAX_INVOICE_EXPIRY_SECONDS,
} from './limits.ts';

export interface MakeInvoiceRequest {
  amountMsat: bigint;
  description: string;
  expirySeconds: number;
  idempotencyKey: string | null;
}

export interface LookupInvoiceRequest {
  paymentHash: string;
  idempotencyKey: string | null;
}

export const MAKE_FIELDS = ['amount_msat', 'description', 'expiry_seconds', 'idempotencyKey'] as const;
export const LOOKUP_FIELDS = ['payment_hash', 'idempotencyKey'] as const;

function invalid(message: string, field: string, extra: Record<string, string | number> = {}): never {
  throw new WardenError('INVALID_REQUEST', message, { field, ...extra });
}

export function parseMakeInvoiceRequest(body: unknown): MakeInvoiceRequest {
  return parseHostile(() => {
    const get = readBody(body, MAKE_FIELDS);
    requireFields(get, ['amount_msat']);
    const amountMsat = parseAmountMsat(get('amount_msat'));
    const text = get('description') ?? '';
    if (typeof text !== 'string')
      invalid('description must be text', 'description', { type: jsonType(text) });
    // Well-formed UTF-16 only: a lone surrogate would be written as U+FFFD, another description.
    if (/\p{Cs}/u.test(text)) invalid('description must be well-formed Unicode text', 'description');
    if (utf8(text).length > MAX_DESCRIPTION_BYTES)
      invalid(`description must fit in ${MAX_DESCRIPTION_BYTES} bytes of UTF-8`, 'description');
    const expiry = get('expiry_seconds') ?? DEFAULT_INVOICE_EXPIRY_SECONDS;
    if (
      typeof expiry !== 'number' ||
      !Number.isSafeInteger(expiry) ||
      expiry < 1 ||
      expiry > MAX_INVOICE_EXPIRY_SECONDS
    )
      invalid(
        `expiry_seconds must be a whole number of seconds from 1 to ${MAX_INVOICE_EXPIRY_SECONDS}`,
        'expiry_seconds',
      );
    return {
      amountMsat,
      description: text,
      expirySeconds: expiry,
      idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')),
    };
  });
}

export function parseLookupInvoiceRequest(body: unknown): LookupInvoiceRequest {
  return parseHostile(() => {
    const get = readBody(body, LOOKUP_FIELDS);
    requireFields(get, ['payment_hash']);
    const hash = get('payment_hash');
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))
      invalid('payment_hash must be 64 lower-case hex digits', 'payment_hash', { type: jsonType(hash) });
    return { paymentHash: hash, idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')) };
  });
}
