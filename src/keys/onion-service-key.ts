/**
 * The key of the API's v3 onion service (`warden start --onion`): an Ed25519 key whose seed is an
 * HKDF-SHA256 subkey of the audit details key, like the control-plane MAC key, so it is sealed with
 * the vault (and in every backup) without a new slot, and the onion address stays the same across
 * restarts. The `info` label keeps it independent of every other subkey.
 *
 * Tor takes the key through ADD_ONION as `ED25519-V3:` and the base64 of its 64-byte expanded form
 * (the clamped scalar, then the nonce prefix: RFC 8032 5.1.5, what noble's getExtendedPublicKey
 * computes). That text is a secret: it is written here as bytes, never as a string, and the caller
 * wipes it after writing it to the control port.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { base32 } from '@scure/base';
import { utf8, wipe } from '../core/bytes.ts';

const INFO = utf8('warden/onion-service/v1');
const ONION_VERSION = 3;

export interface OnionServiceKey {
  /** The service id: the onion address without `.onion` (56 base32 characters). */
  serviceId: string;
  /** `ED25519-V3:<base64 of the expanded key>` as bytes, for ADD_ONION; the caller wipes it. */
  addOnionKey: Uint8Array;
}

/** rend-spec-v3 6: base32(PUBKEY | CHECKSUM | VERSION), CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2]. */
export function onionServiceId(publicKey: Uint8Array): string {
  const version = Uint8Array.of(ONION_VERSION);
  const checksum = sha3_256(new Uint8Array([...utf8('.onion checksum'), ...publicKey, ...version]));
  return base32.encode(new Uint8Array([...publicKey, ...checksum.subarray(0, 2), ...version])).toLowerCase();
}

const B64 = utf8('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/** Standard base64 (RFC 4648, padded) into bytes: a secret never becomes a JavaScript string. */
function base64Bytes(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 3) * 4);
  let o = 0;
  for (let i = 0; i < data.length; i += 3) {
    const n = (data[i]! << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
    out[o++] = B64[(n >> 18) & 63]!;
    out[o++] = B64[(n >> 12) & 63]!;
    out[o++] = i + 1 < data.length ? B64[(n >> 6) & 63]! : 0x3d;
    out[o++] = i + 2 < data.length ? B64[n & 63]! : 0x3d;
  }
  return out;
}

/** The onion service key of the vault whose audit details key is `detailsKey`. */
export function deriveOnionServiceKey(detailsKey: Uint8Array, vaultId: string): OnionServiceKey {
  const seed = hkdf(sha256, detailsKey, utf8(vaultId), INFO, 32);
  const { head, prefix, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
  const expanded = new Uint8Array(64);
  expanded.set(head);
  expanded.set(prefix, 32);
  const encoded = base64Bytes(expanded);
  const label = utf8('ED25519-V3:');
  const addOnionKey = new Uint8Array(label.length + encoded.length);
  addOnionKey.set(label);
  addOnionKey.set(encoded, label.length);
  wipe(seed, head, prefix, expanded, encoded);
  return { serviceId: onionServiceId(pointBytes), addOnionKey };
}
