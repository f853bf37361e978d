import type { X509Certificate } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';

/**
 * SPKI pins (RFC 7469's form): base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo,
 * DER. Pinning the key, not the certificate, survives renewals that keep the key.
 */
export const SPKI_PIN = /^[A-Za-z0-9+/]{43}=$/;

export function spkiPinOf(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.from(sha256(new Uint8Array(der))).toString('base64');
}
