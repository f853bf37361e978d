import type { RateLimit } from './rate-limit.ts';

/**
 * Slows down failed authentications without ever refusing a valid token.
 *
 * Every presented credential is checked first (a hash and a constant-time compare: cheap), so
 * nothing a client does with bad tokens can lock an honest agent out, and a source address buys
 * nothing (failures are not counted per address: any local process or browser page shares
 * 127.0.0.1, and 127.0.0.0/8 has sixteen million of them). Failures are counted per presented
 * token id (a scan of one agent's id) and in total (a scan of many). Past either limit a failure
 * is answered late, the delay doubling with the excess up to `maxDelayMs`, and as RATE_LIMITED;
 * when `maxWaiting` late answers are already pending, at once, so a flood cannot pile up
 * connections. Memory is bounded: at most `maxTracked` token ids are remembered, the oldest
 * forgotten first, with no sweep over all keys.
 */
export interface AuthThrottleOptions {
  perToken: RateLimit;
  global: RateLimit;
  baseDelayMs: number;
  maxDelayMs: number;
  maxWaiting: number;
  maxTracked: number;
}

export const DEFAULT_AUTH_THROTTLE: Omit<AuthThrottleOptions, 'perToken' | 'global'> = {
  baseDelayMs: 50,
  maxDelayMs: 2_000,
  maxWaiting: 64,
  maxTracked: 10_000,
};

/**
 * A count over a sliding window, estimated from the current and the previous fixed window (the
 * previous one weighted by how much of it still overlaps): constant memory per key.
 */
class WindowCount {
  #start = 0;
  #current = 0;
  #previous = 0;

  constructor(private readonly windowMs: number) {}

  add(nowMs: number): number {
    this.#roll(nowMs);
    this.#current++;
    return this.estimate(nowMs);
  }

  estimate(nowMs: number): number {
    this.#roll(nowMs);
    const overlap = 1 - (nowMs - this.#start) / this.windowMs;
    return this.#current + Math.floor(this.#previous * Math.max(0, overlap));
  }

  #roll(nowMs: number): void {
    const elapsed = nowMs - this.#start;
    if (elapsed < this.windowMs) return;
    this.#previous = elapsed < 2 * this.windowMs ? this.#current : 0;
    this.#current = 0;
    this.#start = nowMs - (elapsed % this.windowMs);
  }
}

export interface FailureVerdict {
  /** How long to hold the answer back (0: answer now). */
  delayMs: number;
  /** Whether the failure is answered RATE_LIMITED instead of UNAUTHENTICATED. */
  limited: boolean;
  retryAfterSeconds: number;
}

export class AuthFailureThrottle {
  readonly #perToken = new Map<string, WindowCount>();
  readonly #global: WindowCount;
  #waiting = 0;

  constructor(private readonly options: AuthThrottleOptions) {
    this.#global = new WindowCount(options.global.windowMs);
  }

  /** Counts one failed authentication for a presented token id (null: not even well-formed). */
  failure(tokenId: string | null, nowMs: number): FailureVerdict {
    const { perToken, global } = this.options;
    const total = this.#global.add(nowMs);
    const forToken = tokenId === null ? 0 : this.#counter(tokenId).add(nowMs);
    const excess = Math.max(total - global.max, forToken - perToken.max);
    if (excess <= 0) return { delayMs: 0, limited: false, retryAfterSeconds: 0 };
    const windowMs = forToken > perToken.max ? perToken.windowMs : global.windowMs;
    const retryAfterSeconds = Math.max(1, Math.ceil(windowMs / 1000));
    if (this.#waiting >= this.options.maxWaiting) return { delayMs: 0, limited: true, retryAfterSeconds };
    const delayMs = Math.min(
      this.options.maxDelayMs,
      this.options.baseDelayMs * 2 ** Math.min(excess - 1, 16),
    );
    return { delayMs, limited: true, retryAfterSeconds };
  }

  /** Holds a late answer back, counting it among the pending ones while it waits. */
  async wait(delayMs: number, sleep: (ms: number) => Promise<unknown>): Promise<void> {
    if (delayMs <= 0) return;
    this.#waiting++;
    try {
      await sleep(delayMs);
    } finally {
      this.#waiting--;
    }
  }

  get tracked(): number {
    return this.#perToken.size;
  }

  #counter(tokenId: string): WindowCount {
    let counter = this.#perToken.get(tokenId);
    if (counter) {
      // Most recently failed last, so the oldest is the first to be forgotten.
      this.#perToken.delete(tokenId);
    } else {
      counter = new WindowCount(this.options.perToken.windowMs);
      if (this.#perToken.size >= this.options.maxTracked) {
        const oldest = this.#perToken.keys().next().value;
        if (oldest !== undefined) this.#perToken.delete(oldest);
      }
    }
    this.#perToken.set(tokenId, counter);
    return counter;
  }
}
