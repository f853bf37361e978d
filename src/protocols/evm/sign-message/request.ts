import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import {
  jsonType,
  optionalIdempotencyKey,
  optionalPositiveInteger,
  parseHostile,
  readBody,
  shownValue,
} from '../../../core/validate.ts';
import { mentionsSiwe, parseSiwe, type SiweMessage, siweTime } from './siwe.ts';

/**
 * Parsing of the hostile JSON body of `POST /v1/evm/sign-message`:
 *
 *   { message: string } | { messageHex: "0x…" },  plus  chainId?, idempotencyKey?
 *
 * Exactly one of `message` (UTF-8 text, signed as its UTF-8 bytes) and `messageHex` (raw bytes).
 * Unknown fields, wrong types and odd spellings are refused with INVALID_REQUEST naming the field;
 * optional fields may be absent or null. Nothing but a WardenError is ever thrown.
 */

/** The most bytes one message may have: generous for a sign-in, small enough to show in full. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
export const FIELDS = ['message', 'messageHex', 'chainId', 'idempotencyKey'] as const;

/**
 * What policy sees of a message (facet `message_type`): `hash32` is any payload of exactly 32
 * bytes, however it was sent, because a personal_sign signature over 32 bytes is what many
 * contracts and wallets accept as approval of whatever those bytes hash (a transaction, an order);
 * `siwe` a Sign-In with Ethereum message; `text` other text; `bytes` other raw bytes.
 */
export type MessageType = 'siwe' | 'text' | 'bytes' | 'hash32';

export interface SignMessageRequest {
  /** Which field carried the message: `message` (text) or `messageHex` (bytes). */
  encoding: 'text' | 'hex';
  /** The bytes that are signed (behind the EIP-191 prefix), lower-case 0x hex, at least 1 byte. */
  messageHex: `0x${string}`;
  /** The message as text: what was sent as `message`, or the bytes when they are valid UTF-8; else null. */
  text: string | null;
  messageType: MessageType;
  /** The SIWE message when the text is one. */
  siwe: SiweMessage | null;
  /** The caller's chain id (for context and policy), or null. */
  chainId: number | null;
  idempotencyKey: string | null;
}

function fail(message: string, details: ErrorDetails): never {
  throw new WardenError('INVALID_REQUEST', message, details);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Every byte to one character, ASCII to itself: for looking for an ASCII phrase in raw bytes. */
const bytewise = new TextDecoder('latin1');
const encoder = new TextEncoder();

function parseText(value: unknown): Uint8Array {
  if (typeof value !== 'string')
    fail('message must be a string (UTF-8 text)', { field: 'message', type: jsonType(value) });
  // Every UTF-16 unit is at least one UTF-8 byte: a string this long is too long in bytes.
  if (value.length > MAX_MESSAGE_BYTES)
    fail(`message is longer than ${MAX_MESSAGE_BYTES} bytes`, { field: 'message' });
  if (/\p{Cs}/u.test(value)) {
    // A lone surrogate has no UTF-8 form: the bytes signed would not be the text sent.
    fail('message is not valid Unicode text (it holds a lone surrogate)', { field: 'message' });
  }
  const bytes = encoder.encode(value);
  if (bytes.length === 0) fail('message is empty: nothing to sign', { field: 'message' });
  if (bytes.length > MAX_MESSAGE_BYTES)
    fail(`message is longer than ${MAX_MESSAGE_BYTES} bytes of UTF-8`, {
      field: 'message',
      bytes: bytes.length,
    });
  return bytes;
}

function parseHex(value: unknown): Uint8Array {
  if (typeof value !== 'string')
    fail('messageHex must be a string of 0x and hex digits', { field: 'messageHex', type: jsonType(value) });
  if (value.length > 2 + 2 * MAX_MESSAGE_BYTES)
    fail(`messageHex is longer than ${MAX_MESSAGE_BYTES} bytes`, { field: 'messageHex' });
  if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(value))
    fail('messageHex must be 0x followed by an even number of hex digits', {
      field: 'messageHex',
      value: shownValue(value),
    });
  if (value.length === 2) fail('messageHex is empty: nothing to sign', { field: 'messageHex' });
  return hexToBytes(value.slice(2));
}

/**
 * Parses a request body. `now` refuses a SIWE message that has already expired; null (used when a
 * stored request is read back) skips that check only.
 */
export function parseSignMessageRequest(body: unknown, now: Date | null): SignMessageRequest {
  return parseHostile(() => parseBody(body, now));
}

function parseBody(body: unknown, now: Date | null): SignMessageRequest {
  const get = readBody(body, FIELDS);
  const hasText = get('message') !== undefined;
  const hasHex = get('messageHex') !== undefined;
  if (hasText && hasHex)
    fail('send either message (text) or messageHex (bytes), not both', { field: 'messageHex' });
  if (!hasText && !hasHex) fail('missing field message (or messageHex)', { field: 'message' });

  const field = hasText ? 'message' : 'messageHex';
  const bytes = hasText ? parseText(get('message')) : parseHex(get('messageHex'));
  const chainId = optionalPositiveInteger(get('chainId'), 'chainId');
  const idempotencyKey = optionalIdempotencyKey(get('idempotencyKey'));
  const text = hasText ? (get('message') as string) : decodeUtf8(bytes);

  // The SIWE phrase is looked for in the text, or in the raw bytes read one byte per character.
  const searched = text ?? bytewise.decode(bytes);
  const siwe = mentionsSiwe(searched) ? parseSiweText(text, field) : null;
  if (siwe) checkSiwe(siwe, field, chainId, now);

  const messageType: MessageType =
    bytes.length === 32 ? 'hash32' : siwe ? 'siwe' : hasText ? 'text' : 'bytes';
  return {
    encoding: hasText ? 'text' : 'hex',
    messageHex: `0x${bytesToHex(bytes)}`,
    text,
    messageType,
    siwe,
    chainId,
    idempotencyKey,
  };
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

function parseSiweText(text: string | null, field: string): SiweMessage {
  if (text === null) {
    fail(`${field} mentions Sign-In with Ethereum but is not valid UTF-8, so not an EIP-4361 message`, {
      field,
      siweField: 'message',
    });
  }
  return parseSiwe(text, field);
}

function checkSiwe(siwe: SiweMessage, field: string, chainId: number | null, now: Date | null): void {
  if (chainId !== null && siwe.chainId !== chainId) {
    fail(`the SIWE message is for chain ${siwe.chainId}, but chainId is ${chainId}`, {
      field: 'chainId',
      siweChainId: siwe.chainId,
      chainId,
    });
  }
  if (now !== null && siwe.expirationTime !== null && now.getTime() >= siweTime(siwe.expirationTime)) {
    fail(`the SIWE message expired at ${siwe.expirationTime}`, {
      field,
      siweField: 'expiration-time',
      expirationTime: siwe.expirationTime,
    });
  }
}
