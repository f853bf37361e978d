/**
 * Reading a PSBT from hostile base64: version 0 (BIP-174) or 2 (BIP-370), decoded and checked by
 * @scure/btc-signer. Nothing but INVALID_REQUEST (naming the field) ever leaves this file, whatever
 * the bytes: the library's own messages are not copied (they may quote the input).
 */
import { base64 } from '@scure/base';
import { Transaction, type TxOpts } from '@scure/btc-signer';
import { WardenError } from '../../core/errors.ts';
import { type PsbtEntries, scanPsbtEntries } from './psbt-entries.ts';

/**
 * A PSBT larger than this is refused before it is decoded. 48 KiB is the most whose base64 (4/3 as
 * long: 64 KiB) fits in the HTTP body limit (api/http/app.ts DEFAULT_BODY_LIMIT, 64 KiB): a larger
 * cap would only let other callers send what HTTP cannot, and every byte is decoded several times
 * on the request path. About 300 P2WPKH inputs with their derivations and previous transactions.
 */
export const MAX_PSBT_BYTES = 48 * 1024;

/**
 * How the library reads a PSBT here. Unknown output scripts are let through so that the analysis
 * can name them (OP_RETURN is one; anything else is refused there with OUTPUT_UNSUPPORTED).
 * Unknown input scripts stay refused for signing by the library. Unknown and proprietary PSBT
 * fields are dropped (the library's default): the signed PSBT holds only what Warden understood.
 */
export const PSBT_OPTIONS: TxOpts = Object.freeze({ allowUnknownOutputs: true });

export interface DecodedPsbt {
  tx: Transaction;
  /** The PSBT's bytes as sent. */
  bytes: Uint8Array;
  /** 0 (BIP-174) or 2 (BIP-370). */
  version: 0 | 2;
  /** What the raw scan read, before the library decoded anything. */
  entries: PsbtEntries;
}

function fail(field: string, why: string, reason: string): never {
  throw new WardenError('INVALID_REQUEST', `${field} ${why}`, { field, reason });
}

/** Bytes of a base64 PSBT, strictly (padding required, no whitespace, no URL alphabet). */
export function psbtBytesOf(value: string, field = 'psbt'): Uint8Array {
  if (value.length === 0) fail(field, 'is empty', 'empty');
  if (value.length > Math.ceil(MAX_PSBT_BYTES / 3) * 4)
    fail(field, `is longer than ${MAX_PSBT_BYTES} bytes`, 'too_large');
  try {
    return base64.decode(value);
  } catch {
    return fail(field, 'is not standard base64 (RFC 4648, padded)', 'not_base64');
  }
}

/** Decodes a PSBT's bytes; INVALID_REQUEST `reason: 'not_psbt'` when they are not a valid PSBT. */
export function decodePsbtBytes(bytes: Uint8Array, field = 'psbt'): DecodedPsbt {
  if (bytes.length > MAX_PSBT_BYTES) fail(field, `is longer than ${MAX_PSBT_BYTES} bytes`, 'too_large');
  // The entry caps first: the library's decode is what costs (psbt-entries.ts).
  const entries = scanPsbtEntries(bytes);
  let tx: Transaction;
  try {
    tx = Transaction.fromPSBT(bytes, PSBT_OPTIONS);
  } catch {
    return fail(field, 'is not a valid PSBT (BIP-174 version 0 or BIP-370 version 2)', 'not_psbt');
  }
  // The library read PSBT_GLOBAL_VERSION and refused any version but 0 and 2.
  const version = tx.opts.PSBTVersion === 2 ? 2 : 0;
  return { tx, bytes, version, entries };
}

/** Decodes a base64 PSBT. */
export function decodePsbt(value: string, field = 'psbt'): DecodedPsbt {
  return decodePsbtBytes(psbtBytesOf(value, field), field);
}

/**
 * One decode per request: the library's decode is most of what a PSBT costs (it re-validates every
 * public key in it, each a square root), and a request's PSBT is read by the parser, the analysis
 * and the signer. The parser keeps what it decoded here, keyed by the parsed request object (which
 * holds the PSBT as an immutable string, so the decode always matches it).
 */
const decodedByRequest = new WeakMap<object, DecodedPsbt>();

/** Keeps `decoded` as the decode of `request.psbt` (the parser calls it with what it decoded). */
export function keepDecoded(request: { readonly psbt: string }, decoded: DecodedPsbt): void {
  decodedByRequest.set(request, decoded);
}

/** The decode of `request.psbt`, for reading only (the analysis): kept, or decoded now. */
export function decodedOf(request: { readonly psbt: string }): DecodedPsbt {
  const kept = decodedByRequest.get(request);
  if (kept) return kept;
  const decoded = decodePsbt(request.psbt);
  decodedByRequest.set(request, decoded);
  return decoded;
}

/**
 * The decode of `request.psbt`, handed over for signing (the signer adds to it in place): taken
 * out, so that no later reader sees a transaction that signing has changed; a second call decodes
 * again.
 */
export function takeDecoded(request: { readonly psbt: string }): DecodedPsbt {
  const decoded = decodedOf(request);
  decodedByRequest.delete(request);
  return decoded;
}
