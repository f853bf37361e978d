import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { WardenError } from '../core/errors.ts';
import { NONCE_LENGTH, openXChaCha, sealXChaCha } from '../keys/aead.ts';
import type { AuditKeyAccess } from '../keys/audit-keys.ts';

/**
 * What the audit log needs from the keystore, and nothing more: a signature for checkpoints and an
 * AEAD for the details of each record. The keystore implements it over its unsealed keys, so the
 * audit room never holds a private key it could leak; when the vault is sealed the callers pass
 * `null` instead of a keyring and records are written without details.
 */
export type AuditKeyring = AuditKeyAccess;

/** XChaCha20-Poly1305 (keys/aead.ts): a 24-byte nonce is large enough to draw at random for every record. */
export const DETAILS_NONCE_LENGTH = NONCE_LENGTH;
const KEY_LENGTH = 32;

/** The key id the keystore should use too, so checkpoints name their key the same way everywhere. */
export function auditKeyId(publicKey: Uint8Array): string {
  return bytesToHex(sha256(publicKey).subarray(0, 8));
}

/**
 * An in-memory keyring over the same primitives the keystore wraps. Used by tests and by tools that
 * already hold the two keys. The secrets are copied, so the caller may wipe its own buffers.
 */
export function memoryAuditKeyring(signingSecret: Uint8Array, detailsKey: Uint8Array): AuditKeyring {
  if (signingSecret.length !== KEY_LENGTH) {
    throw new WardenError('INVALID_ARGUMENT', 'the checkpoint signing secret must be 32 bytes');
  }
  if (detailsKey.length !== KEY_LENGTH) {
    throw new WardenError('INVALID_ARGUMENT', 'the audit details key must be 32 bytes');
  }
  const secret = Uint8Array.from(signingSecret);
  const key = Uint8Array.from(detailsKey);
  const publicKey = ed25519.getPublicKey(secret);
  return {
    keyId: auditKeyId(publicKey),
    publicKey,
    async sign(message) {
      return ed25519.sign(message, secret);
    },
    encrypt(plaintext, aad) {
      return sealXChaCha(key, plaintext, aad);
    },
    async decrypt(blob, aad) {
      const plain = openXChaCha(key, blob, aad);
      // Too short, wrong key, altered bytes or a blob moved from another record (its aad differs).
      if (plain === null) throw new WardenError('INVALID_ARGUMENT', 'audit details cannot be decrypted');
      return plain;
    },
    async decryptMany(items) {
      return items.map((i) => openXChaCha(key, i.blob, i.aad));
    },
  };
}

/**
 * Strict RFC 8032 verification (zip215 off): a checkpoint signature has exactly one valid encoding,
 * so a verifier can't be shown two different "valid" signatures for one checkpoint. Never throws:
 * malformed keys or signatures are simply invalid.
 */
export function verifyCheckpointSignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
