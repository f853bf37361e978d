import { base64 } from '@scure/base';
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import {
  jsonType,
  optionalIdempotencyKey,
  parseHostile,
  readBody,
  requireFields,
} from '../../../core/validate.ts';
import { decodePsbt, keepDecoded } from '../psbt-decode.ts';

/**
 * Parsing of the hostile JSON body of `POST /v1/bitcoin/sign-psbt`:
 *
 *   { psbt: base64, payTo?: string[] | null, idempotencyKey?: string | null }
 *
 * `psbt` is a BIP-174 (v0) or BIP-370 (v2) PSBT in standard base64; it must decode here, so a
 * request that cannot be judged never gets a row. `payTo`, when given, lists the addresses the
 * agent means to pay (one per external output, in any order): a PSBT paying anywhere else is
 * refused. Addresses are only shaped here; their network is checked against the identity's in
 * the intent. Nothing but a WardenError is ever thrown.
 */
export const FIELDS = ['psbt', 'payTo', 'idempotencyKey'] as const;
export const MAX_PAY_TO = 100;
/** The characters of a bech32 or base58 address, 14 to 90 of them. */
export const ADDRESS_SHAPE = /^[A-Za-z0-9]{14,90}$/;

export interface SignPsbtRequest {
  /** The PSBT in standard base64, re-encoded from its bytes (one spelling per PSBT). */
  psbt: string;
  payTo: string[] | null;
  idempotencyKey: string | null;
}

function fail(message: string, details: ErrorDetails): never {
  throw new WardenError('INVALID_REQUEST', message, details);
}

function parsePayTo(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value))
    fail('payTo must be a list of addresses', { field: 'payTo', type: jsonType(value) });
  if (value.length === 0 || value.length > MAX_PAY_TO)
    fail(`payTo lists 1 to ${MAX_PAY_TO} addresses`, { field: 'payTo' });
  return value.map((address, i) => {
    if (typeof address !== 'string' || !ADDRESS_SHAPE.test(address))
      fail('payTo holds something that is not an address', { field: 'payTo', item: i });
    return address;
  });
}

export function parseSignPsbtRequest(body: unknown): SignPsbtRequest {
  return parseHostile(() => {
    const get = readBody(body, FIELDS);
    requireFields(get, ['psbt']);
    const psbt = get('psbt');
    if (typeof psbt !== 'string')
      fail('psbt must be a base64 string', { field: 'psbt', type: jsonType(psbt) });
    // Size, base64 and the PSBT itself are checked by the decoder (psbt-decode.ts).
    const decoded = decodePsbt(psbt);
    const request: SignPsbtRequest = {
      psbt: base64.encode(decoded.bytes),
      payTo: parsePayTo(get('payTo')),
      idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')),
    };
    keepDecoded(request, decoded);
    return request;
  });
}
