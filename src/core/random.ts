import { randomBytes } from 'node:crypto';

/**
 * A whole number drawn uniformly from [min, max] (both included) with the OS CSPRNG: bytes
 * enough for the width, masked to its bit length and redrawn when above it (rejection sampling:
 * no modulo bias). For amounts (an amount jitter): bigint, so no width is too large for it.
 */
export function uniformBigint(min: bigint, max: bigint): bigint {
  if (max < min) throw new RangeError('uniformBigint: max is below min');
  const width = max - min;
  if (width === 0n) return min;
  const bits = width.toString(2).length;
  const bytes = Math.ceil(bits / 8);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    let n = 0n;
    for (const b of randomBytes(bytes)) n = (n << 8n) | BigInt(b);
    n &= mask;
    // More than half the masked range is in [0, width]: under two draws on average.
    if (n <= width) return min + n;
  }
}
