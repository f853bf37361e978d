import { timingSafeEqual } from 'node:crypto';

/** Overwrites a secret buffer. JavaScript cannot promise there is no other copy; see the README. */
export function wipe(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Runs `fn` with a secret and wipes the secret afterwards, whatever happens. */
export async function withSecret<T>(
  secret: Uint8Array,
  fn: (secret: Uint8Array) => T | Promise<T>,
): Promise<T> {
  try {
    return await fn(secret);
  } finally {
    wipe(secret);
  }
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
