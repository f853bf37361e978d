import { WardenError } from '../core/errors.ts';

export interface RateLimit {
  max: number;
  windowMs: number;
}

/**
 * Sliding-window rate limiter per key (token + operation): a log of recent timestamps per key,
 * trimmed on every hit, so its memory is bounded by `max` per key. In memory: a budget it is not
 * (budgets live in the ledger); it stops floods and runaway loops.
 */
export class SlidingWindowLimiter {
  readonly #hits = new Map<string, number[]>();

  constructor(private readonly limits: (operation: string) => RateLimit) {}

  /** Counts one hit or throws RATE_LIMITED with the time to wait. */
  hit(key: string, operation: string, nowMs: number): void {
    const log = this.#check(key, operation, nowMs);
    log.push(nowMs);
    this.#hits.set(`${key}|${operation}`, log);
    if (this.#hits.size > 100_000) this.#sweep(nowMs);
  }

  /** Throws RATE_LIMITED if the key is over its limit, without counting a hit. */
  check(key: string, operation: string, nowMs: number): void {
    this.#check(key, operation, nowMs);
  }

  #check(key: string, operation: string, nowMs: number): number[] {
    const { max, windowMs } = this.limits(operation);
    const log = this.#hits.get(`${key}|${operation}`) ?? [];
    while (log.length > 0 && log[0]! <= nowMs - windowMs) log.shift();
    if (log.length >= max) {
      const retryAfterMs = log[0]! + windowMs - nowMs;
      throw new WardenError(
        'RATE_LIMITED',
        `too many ${operation} requests; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
        {
          operation,
          retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
        },
      );
    }
    return log;
  }

  #sweep(nowMs: number): void {
    for (const [k, log] of this.#hits) {
      const operation = k.slice(k.indexOf('|') + 1);
      if (log.length === 0 || log[log.length - 1]! <= nowMs - this.limits(operation).windowMs)
        this.#hits.delete(k);
    }
  }
}
