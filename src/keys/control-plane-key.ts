import { createHmac } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { constantTimeEqual, utf8, wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';

/**
 * The control plane's MAC (token and policy rows in the database). Its key is an HKDF-SHA256
 * subkey of the audit details key, so no new secret is sealed and every existing vault (and
 * every backup) already holds it; the `info` label keeps it independent of the details AEAD.
 * The key stays in this room: callers get `mac` and `verify`, never the bytes.
 */
export interface ControlPlaneMac {
  /** HMAC-SHA256 of `message` (the caller domain-separates and canonically encodes it). */
  mac(message: Uint8Array): Uint8Array;
  /** Constant-time check of a stored tag; false for a missing or malformed one. */
  verify(message: Uint8Array, tag: Uint8Array | null | undefined): boolean;
}

/**
 * Written into the details of a new vault's first audit record (init, restore): a vault born with
 * control-plane MACs never adopts a row without one (gateway/control-plane-adopt.ts).
 */
export const CONTROL_PLANE_MARKER = 'mac-v1';

const INFO = utf8('warden/control-plane-mac/v1');
export const CONTROL_PLANE_MAC_BYTES = 32;

export function deriveControlPlaneKey(detailsKey: Uint8Array, vaultId: string): Uint8Array {
  return hkdf(sha256, detailsKey, utf8(vaultId), INFO, CONTROL_PLANE_MAC_BYTES);
}

/**
 * A MAC over a key held in memory for the life of the unsealed vault (authentication is on the hot
 * path: unsealing per request would cost an AEAD open each time). `key()` returns null once the
 * vault is sealed, and then every call refuses with VAULT_SEALED.
 */
export function controlPlaneMac(key: () => Uint8Array | null): ControlPlaneMac {
  const current = (): Uint8Array => {
    const k = key();
    if (!k) throw new WardenError('VAULT_SEALED', 'the vault is sealed: the control plane cannot be checked');
    return k;
  };
  // OpenSSL's HMAC-SHA256 (noble's is the independent check in test/keys/control-plane-key.test.ts):
  // every request checks its policy row and, over HTTP, its token row; noble's costs 5 times more.
  const mac = (message: Uint8Array): Uint8Array =>
    new Uint8Array(createHmac('sha256', current()).update(message).digest());
  return {
    mac,
    verify(message, tag) {
      if (!(tag instanceof Uint8Array) || tag.length !== CONTROL_PLANE_MAC_BYTES) return false;
      const expected = mac(message);
      try {
        return constantTimeEqual(expected, tag);
      } finally {
        wipe(expected);
      }
    },
  };
}
