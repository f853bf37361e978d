/**
 * NIP-44 v2 encrypted payloads, as NIP-46 (and NWC) will use them: the hostile-input checks of a
 * payload, a plaintext and a peer's key, then the identity's `nostr-encrypt` capability, which does
 * the cryptography in keys/ with nostr-tools' nip44 (the conversation key never leaves keys/).
 *
 * Lengths follow the spec as amended in 2026 (nostr-protocol/nips#1907, merged in 733a047): a
 * plaintext of 1 to 65,535 bytes has a 2-byte length prefix, one of 65,536 bytes or more a 6-byte one
 * (two zero bytes, then a u32). The spec lets an implementation bound what it accepts, and asks it to
 * do so before decoding base64: Warden takes plaintexts up to NIP44_MAX_PLAINTEXT_BYTES (1 MiB, room
 * for a contact list of some ten thousand follows, the case the amendment was made for), and payloads
 * up to the length of such a plaintext's.
 *
 * Every refusal is NIP44_REFUSED with `details.reason`; messages are fixed and never hold the
 * payload, the plaintext or a key. Checks here run before any key is unsealed; a MAC or a padding that
 * is wrong inside the ciphertext can only be seen with the key, and keys/ refuses it the same way.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { base64 } from '@scure/base';
import { v2 } from 'nostr-tools/nip44';
import { asWardenError, WardenError } from '../../core/errors.ts';
import type { NostrEncryptor } from '../../keys/capabilities.ts';
import type { Nip44Reason } from '../../keys/nostr-encryption.ts';

export const NIP44_VERSION = 2;
/** The spec's lengths: base64 text of at least 132 characters, decoding to at least 99 bytes. */
export const NIP44_MIN_PAYLOAD_CHARS = 132;
export const NIP44_MIN_PAYLOAD_BYTES = 99;
/** Plaintexts of this length and more carry the 6-byte prefix (the 2026 amendment). */
export const NIP44_EXTENDED_PREFIX_THRESHOLD = 65_536;
/** Warden's bound on a plaintext (the spec's is 2^32 - 1 bytes); a padded length, so also the padded bound. */
export const NIP44_MAX_PLAINTEXT_BYTES = 1_048_576;

/** version (1) + nonce (32) + MAC (32) around the ciphertext (as long as the padded plaintext). */
const OVERHEAD = 65;

/** The length of the prefixed, padded plaintext of a plaintext of `length` bytes. */
export function nip44PaddedLength(length: number): number {
  return (length >= NIP44_EXTENDED_PREFIX_THRESHOLD ? 6 : 2) + v2.utils.calcPaddedLen(length);
}

/** The longest payload (base64 characters) that can hold a plaintext of at most `maxPlaintext` bytes. */
export function nip44MaxPayloadChars(maxPlaintext: number = NIP44_MAX_PLAINTEXT_BYTES): number {
  return 4 * Math.ceil((OVERHEAD + nip44PaddedLength(maxPlaintext)) / 3);
}

const MAX_PAYLOAD_CHARS = nip44MaxPayloadChars();

/**
 * Whether a ciphertext of `length` bytes is one NIP-44 v2 makes: a prefix (2 bytes below the
 * threshold, 6 from it) and a padded length (calc_padded_len's results are exactly its fixed points).
 */
export function isNip44CiphertextLength(length: number): boolean {
  const small = length - 2;
  if (small >= 32 && small <= NIP44_EXTENDED_PREFIX_THRESHOLD && v2.utils.calcPaddedLen(small) === small)
    return true;
  const large = length - 6;
  return large >= NIP44_EXTENDED_PREFIX_THRESHOLD && v2.utils.calcPaddedLen(large) === large;
}

const MESSAGES: Partial<Record<Nip44Reason, string>> = {
  type: 'a NIP-44 payload is a string',
  length: 'the NIP-44 payload is too short or too long',
  version: 'the NIP-44 payload is not of version 2',
  base64: 'the NIP-44 payload is not base64 (RFC 4648, with padding)',
  padding: 'the NIP-44 payload’s ciphertext is not of a length NIP-44 v2 pads to',
  plaintext: 'the plaintext cannot be encrypted with NIP-44 (empty, too long or not well-formed text)',
  public_key: 'the peer’s public key is not an x-only secp256k1 point (64 lower-case hex digits)',
};

function refuse(reason: Nip44Reason, details: Record<string, number> = {}): WardenError {
  return new WardenError('NIP44_REFUSED', MESSAGES[reason] ?? 'the NIP-44 payload is refused', {
    reason,
    ...details,
  });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A payload that may be a NIP-44 v2 payload: a string within the bounds (checked before anything is
 * decoded), '#' refused as an encoding not supported, base64 with padding, version 2, and a
 * ciphertext of a padded length. Only the key can tell the rest (MAC, padding bytes).
 */
export function checkNip44Payload(payload: unknown): string {
  if (typeof payload !== 'string') throw refuse('type');
  if (payload.startsWith('#')) throw refuse('version');
  if (payload.length < NIP44_MIN_PAYLOAD_CHARS || payload.length > MAX_PAYLOAD_CHARS)
    throw refuse('length', { max: MAX_PAYLOAD_CHARS });
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) throw refuse('base64');
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  const bytes = (payload.length / 4) * 3 - padding;
  if (bytes < NIP44_MIN_PAYLOAD_BYTES) throw refuse('length', { max: MAX_PAYLOAD_CHARS });
  let head: Uint8Array;
  try {
    head = base64.decode(payload.slice(0, 4));
  } catch {
    throw refuse('base64');
  }
  if (head[0] !== NIP44_VERSION) throw refuse('version');
  if (!isNip44CiphertextLength(bytes - OVERHEAD)) throw refuse('padding');
  return payload;
}

/** A lone surrogate: text that UTF-8 cannot hold (an encoder would silently replace it). */
const LONE_SURROGATE = /\p{Cs}/u;

/** A plaintext NIP-44 can carry and Warden accepts: well-formed text of 1 to 1 MiB in UTF-8. */
export function checkNip44Plaintext(plaintext: unknown): string {
  if (typeof plaintext !== 'string') throw refuse('plaintext');
  // UTF-8 takes at least one byte per UTF-16 unit: a longer string is too long without encoding it.
  if (plaintext.length === 0 || plaintext.length > NIP44_MAX_PLAINTEXT_BYTES) throw refuse('plaintext');
  if (LONE_SURROGATE.test(plaintext)) throw refuse('plaintext');
  if (new TextEncoder().encode(plaintext).length > NIP44_MAX_PLAINTEXT_BYTES) throw refuse('plaintext');
  return plaintext;
}

const X_ONLY = /^[0-9a-f]{64}$/;

/** A peer's public key: 64 lower-case hex digits, the x coordinate of a point on secp256k1. */
export function checkNip44Peer(pubkey: unknown): string {
  if (typeof pubkey !== 'string' || !X_ONLY.test(pubkey)) throw refuse('public_key');
  try {
    secp256k1.Point.fromHex(`02${pubkey}`).assertValidity();
  } catch {
    throw refuse('public_key');
  }
  return pubkey;
}

/** A NIP-44 v2 payload of `plaintext` from the encryptor's identity to `peer`. */
export function nip44Encrypt(encryptor: NostrEncryptor, peer: unknown, plaintext: unknown): string {
  const key = checkNip44Peer(peer);
  const text = checkNip44Plaintext(plaintext);
  try {
    return encryptor.encrypt(key, text);
  } catch (err) {
    // The capability's refusals pass as they are; anything else would be a fault of ours (INTERNAL).
    throw asWardenError(err);
  }
}

/** The plaintext of a NIP-44 v2 payload from `peer` to the encryptor's identity. */
export function nip44Decrypt(encryptor: NostrEncryptor, peer: unknown, payload: unknown): string {
  const key = checkNip44Peer(peer);
  const checked = checkNip44Payload(payload);
  try {
    return encryptor.decrypt(key, checked);
  } catch (err) {
    // The capability's refusals pass as they are; anything else would be a fault of ours (INTERNAL).
    throw asWardenError(err);
  }
}
