import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { openXChaCha, sealXChaCha } from './aead.ts';
import { addSecret } from './key-version.ts';
import type { VaultMeta } from './model.ts';
import { csprngBytes, newEd25519SecretKey } from './random.ts';

/**
 * The audit log's use of its two keys (checkpoint signing, details encryption) without the keys
 * leaving this room; src/audit/ knows it as AuditKeyring.
 */
export interface AuditKeyAccess {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** Synchronous: the append path encrypts inside its transaction, between statements. */
  encrypt(plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /**
   * Rejects with INVALID_ARGUMENT (never returns garbage) when the blob was altered, moved to
   * another record, or the key differs; any other error means the key itself could not be used.
   */
  decrypt(blob: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /**
   * `decrypt` for many blobs under one use of the key: a full audit verification opens every
   * record's, and unsealing the key per blob would double its cost. One entry per item, in order:
   * the plaintext, or null where that blob does not authenticate; any other failure rejects.
   */
  decryptMany(items: readonly SealedDetails[]): Promise<(Uint8Array | null)[]>;
}

export interface SealedDetails {
  blob: Uint8Array;
  aad: Uint8Array;
}

/** Runs a callback with one decrypted secret of the vault, wiping it afterwards. */
export type WithSecret = <T>(secretId: string, fn: (secret: Uint8Array) => T) => T;

/** Generates a new vault's audit keys, sealed into `secrets`; returns what the metadata records. */
export function newAuditKeys(
  secrets: Map<string, Uint8Array>,
  kek: Uint8Array,
  vaultId: string,
): VaultMeta['audit'] {
  const signing = newEd25519SecretKey();
  const details = csprngBytes(32);
  try {
    const publicKey = ed25519.getPublicKey(signing);
    return {
      signingSecretId: addSecret(secrets, kek, vaultId, signing),
      detailsSecretId: addSecret(secrets, kek, vaultId, details),
      publicKey: bytesToHex(publicKey),
      keyId: bytesToHex(sha256(publicKey).subarray(0, 8)),
    };
  } finally {
    wipe(signing, details);
  }
}

export function auditKeyAccess(audit: VaultMeta['audit'], withSecret: WithSecret): AuditKeyAccess {
  return {
    keyId: audit.keyId,
    publicKey: hexToBytes(audit.publicKey),
    sign: async (message) => withSecret(audit.signingSecretId, (sk) => ed25519.sign(message, sk)),
    encrypt: (plaintext, aad) => withSecret(audit.detailsSecretId, (key) => sealXChaCha(key, plaintext, aad)),
    decrypt: async (blob, aad) =>
      withSecret(audit.detailsSecretId, (key) => {
        const plain = openXChaCha(key, blob, aad);
        // Wrong key, altered bytes or a blob moved from another record (its aad differs).
        if (plain === null) throw new WardenError('INVALID_ARGUMENT', 'audit details cannot be decrypted');
        return plain;
      }),
    decryptMany: async (items) =>
      withSecret(audit.detailsSecretId, (key) => items.map((i) => openXChaCha(key, i.blob, i.aad))),
  };
}
