import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for public values drawn on every request (row ids, AEAD nonces): the OS CSPRNG
 * read 4 KiB at a time instead of once per value, which costs several microseconds per call on
 * the request path. Each value is copied out into a fresh buffer and its bytes zeroed in the
 * pool, so a value is never handed out twice nor left behind once used. Not for key material
 * nor signing randomness: those come from keys/random.ts, straight from the CSPRNG each time.
 */
const POOL = new Uint8Array(4096);
let offset = POOL.length;

export function pooledRandomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > POOL.length)
    throw new RangeError('pooledRandomBytes: length out of range');
  if (offset + length > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const out = POOL.slice(offset, offset + length);
  POOL.fill(0, offset, offset + length);
  offset += length;
  return out;
}
