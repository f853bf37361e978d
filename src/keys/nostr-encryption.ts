import { secp256k1 } from '@noble/curves/secp256k1.js';
import { v2 } from 'nostr-tools/nip44';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { csprngBytes } from './random.ts';
import type { Vault } from './vault.ts';

/**
 * NIP-44 v2 encryption with the identity's Nostr key (nostr-tools' nip44, which follows the 2026
 * amendment of the spec: plaintexts of 65,536 bytes and more carry a 6-byte length prefix).
 *
 * The conversation key (HKDF of the ECDH of our secret key and the peer's public key) is as good as
 * a key: whoever holds it reads and forges the whole conversation. So it is made here, from the key
 * unsealed inside `Vault.useSecret`, used for one message and wiped; nothing here returns it. The
 * secret key itself is the vault's to wipe (when the turn ends), not ours: it may serve the turn again.
 *
 * The hostile-input checks of a payload (bounds before base64 decoding, version, padded length) are
 * src/protocols/nostr/nip44.ts's, before any key is unsealed; what the library still refuses here
 * (a MAC, padding) is mapped to the same code, NIP44_REFUSED, with its `reason` and a fixed message:
 * nothing of the library's words, the payload, the plaintext or a key is copied into the error.
 */

/** Why NIP-44 refused (`details.reason` of NIP44_REFUSED). */
export type Nip44Reason =
  | 'type'
  | 'length'
  | 'version'
  | 'base64'
  | 'padding'
  | 'mac'
  | 'plaintext'
  | 'public_key'
  | 'secret_key'
  | 'invalid';

const MESSAGES: Record<Nip44Reason, string> = {
  type: 'a NIP-44 payload is a string',
  length: 'the NIP-44 payload is too short or too long',
  version: 'the NIP-44 payload is not of version 2',
  base64: 'the NIP-44 payload is not base64',
  padding: 'the NIP-44 payload is not padded as NIP-44 v2 pads',
  mac: 'the NIP-44 payload does not authenticate in this conversation',
  plaintext: 'the plaintext cannot be encrypted with NIP-44 (empty, too long or not well-formed text)',
  public_key: 'the peer’s public key is not an x-only secp256k1 point (64 hex digits)',
  secret_key: 'the secret key is not a secp256k1 scalar',
  invalid: 'the NIP-44 payload is refused',
};

export function nip44Refusal(reason: Nip44Reason, cause?: unknown): WardenError {
  return new WardenError(
    'NIP44_REFUSED',
    MESSAGES[reason],
    { reason },
    cause === undefined ? undefined : { cause },
  );
}

/** What nostr-tools' words say went wrong (read, never copied). */
function reasonOf(err: unknown): Nip44Reason {
  const text = err instanceof Error ? err.message : '';
  if (/invalid MAC/i.test(text)) return 'mac';
  if (/padding/i.test(text)) return 'padding';
  if (/base64/i.test(text)) return 'base64';
  if (/version/i.test(text)) return 'version';
  if (/payload length|data length/i.test(text)) return 'length';
  if (/valid string/i.test(text)) return 'type';
  if (/plaintext size/i.test(text)) return 'plaintext';
  return 'invalid';
}

const X_ONLY = /^[0-9a-f]{64}$/;
/** A lone surrogate: text that UTF-8 cannot hold (the encoder would silently replace it). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether `hex` is an x-only public key of a point on secp256k1 (BIP-340 lift_x). */
export function isXOnlyPublicKey(hex: unknown): hex is string {
  if (typeof hex !== 'string' || !X_ONLY.test(hex)) return false;
  try {
    secp256k1.Point.fromHex(`02${hex}`).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/**
 * The NIP-44 v2 conversation key of our secret key and the peer's x-only public key. The caller
 * wipes it. Exported for the spec's vectors; executions reach it only through the capability.
 */
export function nip44ConversationKey(secretKey: Uint8Array, peerPubkeyHex: string): Uint8Array {
  if (!secp256k1.utils.isValidSecretKey(secretKey)) throw nip44Refusal('secret_key');
  if (!isXOnlyPublicKey(peerPubkeyHex)) throw nip44Refusal('public_key');
  try {
    return v2.utils.getConversationKey(secretKey, peerPubkeyHex);
  } catch (err) {
    throw nip44Refusal('public_key', err);
  }
}

/**
 * Encrypts with a conversation key. `nonce` is for the spec's vectors only: a nonce used twice in
 * one conversation makes both messages readable, so every real message draws a fresh one.
 */
export function nip44EncryptWith(
  conversationKey: Uint8Array,
  plaintext: string,
  nonce: Uint8Array = csprngBytes(32),
): string {
  if (typeof plaintext !== 'string' || LONE_SURROGATE.test(plaintext)) throw nip44Refusal('plaintext');
  try {
    return v2.encrypt(plaintext, conversationKey, nonce);
  } catch (err) {
    throw nip44Refusal(reasonOf(err) === 'plaintext' ? 'plaintext' : 'invalid', err);
  }
}

/** Decrypts with a conversation key: MAC first (constant time), then ChaCha20, then the padding. */
export function nip44DecryptWith(conversationKey: Uint8Array, payload: string): string {
  if (typeof payload !== 'string') throw nip44Refusal('type');
  try {
    return v2.decrypt(payload, conversationKey);
  } catch (err) {
    throw nip44Refusal(reasonOf(err), err);
  }
}

/** Runs `fn` with the conversation key of the identity's active Nostr key and `peer`; wipes it. */
function withConversationKey<T>(
  vault: Vault,
  identity: string,
  peer: string,
  fn: (conversationKey: Uint8Array) => T,
): T {
  // Refused before the key is unsealed: a bad peer key costs no unsealing.
  if (!isXOnlyPublicKey(peer)) throw nip44Refusal('public_key');
  return vault.useSecret(identity, 'nostr', 'sign', (secretKey) => {
    const conversationKey = nip44ConversationKey(secretKey, peer);
    try {
      return fn(conversationKey);
    } finally {
      wipe(conversationKey);
    }
  });
}

/** NIP-44 v2 payload of `plaintext` from the identity to `peer` (a fresh CSPRNG nonce). */
export function nostrEncryptNip44(vault: Vault, identity: string, peer: string, plaintext: string): string {
  return withConversationKey(vault, identity, peer, (key) => nip44EncryptWith(key, plaintext));
}

/** The plaintext of a NIP-44 v2 payload between `peer` and the identity. */
export function nostrDecryptNip44(vault: Vault, identity: string, peer: string, payload: string): string {
  return withConversationKey(vault, identity, peer, (key) => nip44DecryptWith(key, payload));
}
