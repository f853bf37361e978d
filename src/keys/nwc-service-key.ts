/**
 * The wallet service key of one Nostr Wallet Connect connection (api/nwc/): a secp256k1 key that
 * signs the connection's info, response and notification events and holds its end of their
 * encryption. NIP-47 asks for a key unique per connection; Warden derives it, as HKDF-SHA256 of the
 * audit details key with the connection's id as info (like the onion service key), so it is sealed
 * with the vault and in every backup without a slot of its own, it stays the same across restarts,
 * and no key of one connection says anything about another's or about any identity's keys.
 *
 * The secret exists only inside one call (`withNwcServiceKey`), and is wiped when it ends; only
 * its public key leaves, and what was signed, encrypted or decrypted with it.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { type EventTemplate, getEventHash, type NostrEvent } from 'nostr-tools';
import * as nip04 from 'nostr-tools/nip04';
import { utf8, wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import {
  isXOnlyPublicKey,
  nip44ConversationKey,
  nip44DecryptWith,
  nip44EncryptWith,
  nip44Refusal,
} from './nostr-encryption.ts';
import { csprngBytes } from './random.ts';
import { signSchnorrDigest } from './schnorr.ts';

/** The encryptions NIP-47 names: NIP-44 v2, and NIP-04 only for a connection that opts in. */
export type NwcEncryption = 'nip44_v2' | 'nip04';

const INFO = 'warden/nwc-service/v1\u0000';

/** The connection's secret key; 2^-128 of HKDF outputs are not a scalar, then the next counter. */
export function deriveNwcServiceSecret(detailsKey: Uint8Array, vaultId: string, connectionId: string) {
  for (let counter = 0; counter < 256; counter++) {
    const key = hkdf(sha256, detailsKey, utf8(vaultId), utf8(`${INFO}${connectionId}\u0000${counter}`), 32);
    if (secp256k1.utils.isValidSecretKey(key)) return key;
    wipe(key);
  }
  throw new WardenError('INTERNAL', 'no NWC service key could be derived');
}

/** What a connection's call may do with its key, inside the call only. */
export interface NwcServiceKey {
  /** x-only hex. */
  readonly publicKey: string;
  sign(template: EventTemplate): NostrEvent;
  encrypt(peer: string, plaintext: string, scheme: NwcEncryption): string;
  decrypt(peer: string, payload: string, scheme: NwcEncryption): string;
}

export function xOnlyPublicKeyOf(secret: Uint8Array): string {
  return bytesToHex(secp256k1.getPublicKey(secret, true).subarray(1));
}

/** Wraps a derived secret for one call; the caller wipes the secret when the call ends. */
export function nwcServiceKeyOf(secret: Uint8Array): NwcServiceKey {
  const publicKey = xOnlyPublicKeyOf(secret);
  const conversation = <T>(peer: string, fn: (key: Uint8Array) => T): T => {
    const key = nip44ConversationKey(secret, peer);
    try {
      return fn(key);
    } finally {
      wipe(key);
    }
  };
  return {
    publicKey,
    sign(template) {
      const unsigned = {
        kind: template.kind,
        created_at: template.created_at,
        tags: template.tags.map((t) => [...t]),
        content: template.content,
        pubkey: publicKey,
      };
      const id = getEventHash(unsigned);
      return { ...unsigned, id, sig: bytesToHex(signSchnorrDigest(hexToBytes(id), secret)) };
    },
    encrypt(peer, plaintext, scheme) {
      if (scheme === 'nip44_v2') return conversation(peer, (key) => nip44EncryptWith(key, plaintext));
      if (!isXOnlyPublicKey(peer)) throw nip44Refusal('public_key');
      return nip04.encrypt(secret, peer, plaintext);
    },
    decrypt(peer, payload, scheme) {
      if (scheme === 'nip44_v2') return conversation(peer, (key) => nip44DecryptWith(key, payload));
      if (!isXOnlyPublicKey(peer)) throw nip44Refusal('public_key');
      try {
        return nip04.decrypt(secret, peer, payload);
      } catch (err) {
        throw new WardenError(
          'NIP44_REFUSED',
          'the NIP-04 payload is refused',
          { reason: 'invalid' },
          { cause: err },
        );
      }
    },
  };
}

/**
 * A fresh client secret for a new connection's URI (NIP-47: the client signs and encrypts with it):
 * from the CSPRNG, shown once in the URI and never stored; the caller wipes it after writing the URI.
 */
export function newNwcClientSecret(): { secret: Uint8Array; publicKey: string } {
  for (;;) {
    const secret = csprngBytes(32);
    if (secp256k1.utils.isValidSecretKey(secret)) return { secret, publicKey: xOnlyPublicKeyOf(secret) };
    wipe(secret);
  }
}
