import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { writeFileAtomic } from '../core/atomic-file.ts';
import { utf8 } from '../core/bytes.ts';
import type { Clock } from '../core/clock.ts';

/**
 * Slows down repeated wrong passphrases across processes. The count lives in its own small file
 * (never in the keystore or the database, which a wrong passphrase leaves untouched). After three
 * failures each attempt waits 1 s, 2 s, 4 s, … up to 5 minutes since the last failure.
 */
export interface ThrottleState {
  failures: number;
  lastFailureAt: string | null;
}

export const FREE_ATTEMPTS = 3;
export const MAX_DELAY_MS = 5 * 60 * 1000;

export function delayFor(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(1000 * 2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_MS);
}

export class UnsealThrottle {
  constructor(
    private readonly path: string,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<unknown> = sleepMs,
  ) {}

  read(): ThrottleState {
    try {
      const raw = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<ThrottleState>;
      const failures =
        Number.isSafeInteger(raw.failures) && (raw.failures ?? 0) > 0 ? (raw.failures as number) : 0;
      return { failures, lastFailureAt: typeof raw.lastFailureAt === 'string' ? raw.lastFailureAt : null };
    } catch {
      return { failures: 0, lastFailureAt: null };
    }
  }

  /** Waits as long as the failure count requires before an attempt may be made. */
  async beforeAttempt(): Promise<number> {
    const state = this.read();
    const delay = delayFor(state.failures);
    if (delay === 0 || !state.lastFailureAt) return 0;
    const elapsed = this.clock.now().getTime() - Date.parse(state.lastFailureAt);
    const wait = Math.max(0, Math.min(delay - (Number.isFinite(elapsed) ? elapsed : 0), delay));
    if (wait > 0) await this.sleep(wait);
    return wait;
  }

  recordFailure(): void {
    const state = this.read();
    const next: ThrottleState = {
      failures: state.failures + 1,
      lastFailureAt: this.clock.now().toISOString(),
    };
    writeFileAtomic(this.path, utf8(JSON.stringify(next)));
  }

  /** Clears the count after a successful unseal and returns how many failures preceded it. */
  recordSuccess(): number {
    const { failures } = this.read();
    if (failures > 0) rmSync(this.path, { force: true });
    return failures;
  }
}
