import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import argon2 from 'argon2';
import { utf8, wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';

/** argon2id parameters, stored in the keystore header and always read back from it. */
export interface KdfParams {
  alg: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  salt: Uint8Array;
}

export const DEFAULT_KDF = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 } as const;

/** Bounds for parameters read from a file: a hostile header must not make us allocate 100 GiB. */
export const KDF_BOUNDS = {
  // The upper bounds also cap what a hostile keystore or backup header can make an unseal cost.
  memoryKiB: { min: 8 * 1024, max: 1024 * 1024 },
  iterations: { min: 1, max: 16 },
  parallelism: { min: 1, max: 16 },
} as const;

export function kdfParamsWithinBounds(p: Omit<KdfParams, 'alg' | 'salt'>): boolean {
  return (Object.keys(KDF_BOUNDS) as (keyof typeof KDF_BOUNDS)[]).every(
    (k) => Number.isSafeInteger(p[k]) && p[k] >= KDF_BOUNDS[k].min && p[k] <= KDF_BOUNDS[k].max,
  );
}

/** The two keys derived from a passphrase: one encrypts, one only proves the passphrase. */
export interface DerivedKeys {
  kek: Uint8Array;
  verifier: Uint8Array;
}

export async function deriveKeys(passphrase: Uint8Array, params: KdfParams): Promise<DerivedKeys> {
  if (!kdfParamsWithinBounds(params)) {
    throw new WardenError('INVALID_ARGUMENT', 'key-derivation parameters out of bounds');
  }
  // A Buffer view over the caller's bytes: no copy of the passphrase is made on our side.
  const password = Buffer.from(passphrase.buffer, passphrase.byteOffset, passphrase.byteLength);
  const raw = await argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    salt: Buffer.from(params.salt),
    hashLength: 32,
    raw: true,
  });
  const master = new Uint8Array(raw);
  raw.fill(0);
  try {
    return {
      kek: hkdf(sha256, master, undefined, utf8('warden/keystore/kek/v1'), 32),
      verifier: hkdf(sha256, master, undefined, utf8('warden/keystore/verifier/v1'), 32),
    };
  } finally {
    wipe(master);
  }
}
