import { createCipheriv, createDecipheriv } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { pooledRandomBytes } from '../core/random-pool.ts';

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), Warden's one AEAD: the records of the request
 * path (audit details, held payloads) and the sealed containers (keystore and backups,
 * container.ts; a backup's 64 MiB database seals and opens in 0.27 s here instead of noble's
 * 1.4 s, a 32-byte secret in 21 µs instead of 26). A 24-byte nonce drawn at random for
 * every message, the blob `nonce || ciphertext || tag`, byte for byte what @noble/ciphers'
 * `xchacha20poly1305` writes (property-tested against it, both ways), so every keystore written
 * before the containers moved here opens as it did.
 *
 * Why not noble's whole: every request seals and later opens a kilobyte or two here, and the
 * JavaScript ChaCha20 and Poly1305 cost ~10 % of a request. So noble derives the per-message
 * subkey (HChaCha20 of the key and the first 16 nonce bytes) and OpenSSL, through node:crypto,
 * runs the IETF ChaCha20-Poly1305 under it with the last 8 nonce bytes. The key itself never
 * reaches OpenSSL, only a subkey good for this one nonce, wiped here after use. Composed, not
 * written: test/keys/aead.test.ts holds it to noble's whole construction, byte for byte.
 */
export const NONCE_LENGTH = 24;
export const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
const CIPHER = 'chacha20-poly1305';

// "expand 32-byte k" as four little-endian words, as HChaCha20 takes it.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
// Every supported Node platform (x64, arm64) is little-endian: the word views below rely on it.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('aead: a big-endian platform');

/** The per-nonce subkey and the 12-byte IETF nonce (4 zero bytes, then nonce bytes 16..23). */
function subkeyAndNonce(key: Uint8Array, nonce: Uint8Array): { subkey: Uint8Array; iv: Uint8Array } {
  if (key.length !== KEY_LENGTH) throw new Error('aead: the key must be 32 bytes');
  const keyWords = new Uint32Array(8);
  const nonceWords = new Uint32Array(4);
  const subkey = new Uint32Array(8);
  try {
    new Uint8Array(keyWords.buffer).set(key);
    new Uint8Array(nonceWords.buffer).set(nonce.subarray(0, 16));
    hchacha(SIGMA, keyWords, nonceWords, subkey);
  } finally {
    keyWords.fill(0);
  }
  const iv = new Uint8Array(12);
  iv.set(nonce.subarray(16, NONCE_LENGTH), 4);
  return { subkey: new Uint8Array(subkey.buffer), iv };
}

/** Seals `plaintext` under `key` with `aad`, under a fresh random nonce: `nonce || ciphertext || tag`. */
export function sealXChaCha(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  // Public, unique per message: from the pool of CSPRNG bytes (core/random-pool.ts).
  const nonce = pooledRandomBytes(NONCE_LENGTH);
  const { subkey, iv } = subkeyAndNonce(key, nonce);
  try {
    const cipher = createCipheriv(CIPHER, subkey, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    cipher.final();
    const out = new Uint8Array(NONCE_LENGTH + body.length + TAG_LENGTH);
    out.set(nonce);
    out.set(body, NONCE_LENGTH);
    out.set(cipher.getAuthTag(), NONCE_LENGTH + body.length);
    return out;
  } finally {
    subkey.fill(0);
  }
}

/** The plaintext of a sealed blob, or null when it does not authenticate (altered, moved, other key, too short). */
export function openXChaCha(key: Uint8Array, blob: Uint8Array, aad: Uint8Array): Uint8Array | null {
  if (blob.length < NONCE_LENGTH + TAG_LENGTH) return null;
  const { subkey, iv } = subkeyAndNonce(key, blob.subarray(0, NONCE_LENGTH));
  // What update() returns is not authenticated until final() passes: wiped if it does not.
  let head: Buffer | undefined;
  try {
    const decipher = createDecipheriv(CIPHER, subkey, iv, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(blob.subarray(blob.length - TAG_LENGTH));
    decipher.setAAD(aad, { plaintextLength: blob.length - NONCE_LENGTH - TAG_LENGTH });
    head = decipher.update(blob.subarray(NONCE_LENGTH, blob.length - TAG_LENGTH));
    const tail = decipher.final();
    // A fresh buffer of its own: node's may be a slice of a shared pool.
    const plain = new Uint8Array(head.length + tail.length);
    plain.set(head);
    plain.set(tail, head.length);
    return plain;
  } catch {
    return null;
  } finally {
    head?.fill(0);
    subkey.fill(0);
  }
}
