import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';

/**
 * SOCKS credentials per identity. Tor (IsolateSOCKSAuth, its default) never puts two streams with
 * different credentials on one circuit, so each identity gets its own, and Warden's own traffic
 * (identity null) yet another. Rotating an identity's circuits gives it a fresh CSPRNG nonce: its
 * next stream needs a new circuit, while every other identity keeps its circuits (no global
 * NEWNYM, which would also rebuild theirs at the same instant, linking them in time).
 *
 * The username is the nonce alone: the identity's name never reaches Tor (a control-port reader
 * sees `SOCKS_USERNAME=` of every circuit).
 */
export interface Isolation {
  credentials(identity: string | null): { username: string; password: string };
  /** A new nonce for `identity`: its next request goes out on a new circuit. */
  rotate(identity: string | null): void;
}

const OWN = '\u0000warden';

export function createIsolation(): Isolation {
  const nonces = new Map<string, string>();
  const key = (identity: string | null) => (identity === null ? OWN : `id:${identity}`);
  const fresh = () => bytesToHex(randomBytes(16));
  return {
    credentials(identity) {
      const k = key(identity);
      let nonce = nonces.get(k);
      if (nonce === undefined) {
        nonce = fresh();
        nonces.set(k, nonce);
      }
      // The password is part of the isolation key too; the same nonce keeps it simple.
      return { username: nonce, password: nonce };
    },
    rotate(identity) {
      nonces.set(key(identity), fresh());
    },
  };
}

/**
 * The isolation every Net of this process shares unless its route names its own (one Warden runs
 * per process): an identity has one set of circuits for all its backends and relays, and rotating
 * it (gateway/circuits.ts) rotates them all at once.
 */
export const processIsolation: Isolation = createIsolation();
