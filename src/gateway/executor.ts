import { randomId } from '../core/ids.ts';
import { acquireExecutorLock, type ExecutorLock } from '../store/executor-lock.ts';

/**
 * This gateway's executor: the id it writes on every request it moves to `executing`, backed by
 * a lock held for the life of the process (store/executor-lock.ts). Taken at the first execution,
 * so a CLI command that never executes leaves no lock file behind. It is never released while the
 * process lives (an execution admitted at the very moment of a stop must stay protected); the
 * kernel releases it at exit, and the next start removes the file once it took the rows over.
 */
export class ExecutorSlot {
  #lock: ExecutorLock | null = null;

  constructor(readonly dir: string) {}

  /** The executor id, taking the lock first if this is the first execution. */
  id(): string {
    this.#lock ??= acquireExecutorLock(this.dir, randomId('exe'));
    return this.#lock.id;
  }
}
