import { pooledRandomBytes } from './random-pool.ts';

/** Random identifiers from the OS CSPRNG: `prefix_` + 26 base32 characters (128 bits). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export function randomId(prefix: string): string {
  return `${prefix}_${base32(pooledRandomBytes(17), 26)}`;
}

/**
 * An identifier of the same form as `randomId` whose first 10 characters are the time (ms, in
 * the order of the alphabet) and the other 16 random (80 bits): for the rows of the request path
 * (requests, ledger entries), whose primary-key index would otherwise take each new row on a
 * random page. Rows made together sit together, so a group commit writes a few index pages
 * instead of one per row (each page a 4 KiB write before the fsync). Not a secret and not a
 * clock: the time is only where the row goes in the index (the row's own columns say when).
 */
export function timeOrderedId(prefix: string, nowMs: number = Date.now()): string {
  let time = '';
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${base32(pooledRandomBytes(10), 16)}`;
}
