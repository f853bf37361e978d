import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';

/** Key material comes only from here: the OS CSPRNG (crypto.getRandomValues), into a fresh buffer. */
export function csprngBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** A secp256k1 secret key (Nostr): 32 CSPRNG bytes, redrawn in the ~2^-128 case that is out of range. */
export function newSecp256k1SecretKey(): Uint8Array {
  for (;;) {
    const key = csprngBytes(32);
    if (secp256k1.utils.isValidSecretKey(key)) return key;
    key.fill(0);
  }
}

export function newEd25519SecretKey(): Uint8Array {
  const key = csprngBytes(32);
  if (!ed25519.utils.isValidSecretKey(key))
    throw new Error('unreachable: every 32-byte string is an ed25519 seed');
  return key;
}
