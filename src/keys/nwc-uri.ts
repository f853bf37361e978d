/**
 * An upstream wallet's NIP-47 connection URI, as sealed in an identity's Lightning slot (kind
 * `nwc`): `nostr+walletconnect://WALLET_PUBKEY?relay=wss://…&secret=HEX`. The URI is hostile input
 * (a file the operator was handed) and a secret: it is read as bytes, the secret decoded from them
 * straight into a Uint8Array (never into a string), and only the public rest (the wallet's key and
 * relays) ever becomes text. Refusals are INVALID_ARGUMENT with a `reason`, never quoting the URI.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { isXOnlyPublicKey } from './nostr-encryption.ts';

const SCHEME = 'nostr+walletconnect://';
const SECRET_PARAM = new TextEncoder().encode('secret=');
/** A URI longer than this is not one a wallet made (a handful of relays and two keys). */
export const MAX_NWC_URI_BYTES = 4096;
const MAX_RELAYS = 8;

export type NwcUriProblem = 'length' | 'scheme' | 'pubkey' | 'secret' | 'relay' | 'query';

export interface ParsedNwcUri {
  /** The wallet service's x-only public key (lower-case hex). */
  walletPubkey: string;
  /** ws:// or wss:// relay URLs, normalized, at least one. */
  relays: string[];
  /** The client's 32-byte secret key; the caller wipes it. */
  secret: Uint8Array;
}

function refused(reason: NwcUriProblem, message: string): WardenError {
  return new WardenError('INVALID_ARGUMENT', `the NWC connection URI is refused: ${message}`, {
    purpose: 'lightning',
    kind: 'nwc',
    reason,
  });
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** One hex digit's value (lower or upper case), or -1: an encoding, not cryptography. */
function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** The `secret=` parameter: where it is, and its 32 bytes (64 hex digits, ending the parameter). */
function secretOf(uri: Uint8Array): { start: number; end: number; secret: Uint8Array } {
  const at = indexOf(uri, SECRET_PARAM, 0);
  // The parameter starts the query or follows a `&`; a second one is ambiguous.
  if (at < 0 || (uri[at - 1] !== 0x3f && uri[at - 1] !== 0x26))
    throw refused('secret', 'it has no secret parameter');
  if (indexOf(uri, SECRET_PARAM, at + 1) >= 0) throw refused('secret', 'it has two secret parameters');
  const from = at + SECRET_PARAM.length;
  const end = from + 64;
  if (end > uri.length || (end < uri.length && uri[end] !== 0x26))
    throw refused('secret', 'the secret is not 64 hex digits');
  const secret = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    const hi = nibble(uri[from + 2 * i]!);
    const lo = nibble(uri[from + 2 * i + 1]!);
    if (hi < 0 || lo < 0) {
      wipe(secret);
      throw refused('secret', 'the secret is not 64 hex digits');
    }
    secret[i] = (hi << 4) | lo;
  }
  if (!secp256k1.utils.isValidSecretKey(secret)) {
    wipe(secret);
    throw refused('secret', 'the secret is not a secp256k1 secret key');
  }
  return { start: at, end, secret };
}

/** The URI's public part (the secret parameter cut out), as text. */
function publicPart(uri: Uint8Array, start: number, end: number): string {
  // The `&` joining the secret to a following parameter goes with it.
  const after = end < uri.length ? end + 1 : end;
  const bytes = new Uint8Array(uri.length - (after - start));
  bytes.set(uri.subarray(0, start), 0);
  bytes.set(uri.subarray(after), start);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw refused('query', 'it is not UTF-8 text');
  } finally {
    wipe(bytes);
  }
}

function relayOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refused('relay', 'a relay is not a URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw refused('relay', 'a relay is not ws:// or wss://');
  if (url.username !== '' || url.password !== '') throw refused('relay', 'a relay URL carries credentials');
  return url.href;
}

/** Parses and checks the URI; the secret returned is the caller's to wipe. `uri` is not changed. */
export function parseNwcUri(uri: Uint8Array): ParsedNwcUri {
  if (uri.length > MAX_NWC_URI_BYTES) throw refused('length', `it is longer than ${MAX_NWC_URI_BYTES} bytes`);
  // Trailing newlines of a credential file are not part of it.
  let length = uri.length;
  while (length > 0 && (uri[length - 1] === 0x0a || uri[length - 1] === 0x0d)) length--;
  const trimmed = uri.subarray(0, length);
  const { start, end, secret } = secretOf(trimmed);
  try {
    const text = publicPart(trimmed, start, end);
    if (!text.startsWith(SCHEME)) throw refused('scheme', `it does not start with ${SCHEME}`);
    const rest = text.slice(SCHEME.length);
    const q = rest.indexOf('?');
    if (q < 0) throw refused('query', 'it has no query (relay=…&secret=…)');
    const walletPubkey = rest.slice(0, q).replace(/\/$/, '');
    if (!/^[0-9a-f]{64}$/.test(walletPubkey) || !isXOnlyPublicKey(walletPubkey))
      throw refused('pubkey', "the wallet's public key is not 64 lower-case hex digits of a secp256k1 point");
    const relays: string[] = [];
    for (const [key, value] of new URLSearchParams(rest.slice(q + 1)))
      if (key === 'relay') relays.push(relayOf(value));
    if (relays.length === 0) throw refused('relay', 'it names no relay');
    if (relays.length > MAX_RELAYS) throw refused('relay', `it names more than ${MAX_RELAYS} relays`);
    return { walletPubkey, relays: [...new Set(relays)], secret };
  } catch (err) {
    wipe(secret);
    throw err;
  }
}

/** Refuses a malformed URI (at `warden identity lightning NAME --kind nwc`), keeping nothing of it. */
export function checkNwcUri(uri: Uint8Array): void {
  wipe(parseNwcUri(uri).secret);
}
