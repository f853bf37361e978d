import type { UnitResult } from '../store/later-step.ts';
import type { Store, SyncTx } from '../store/store.ts';

interface Pending {
  unit: (sync: SyncTx) => UnitResult<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: units that arrive while the event loop is busy (the requests of one turn, or of
 * the commit before) run together, in arrival order, in one store transaction and one fsync.
 * Each unit sees what the units before it wrote, so each request is judged against a budget that
 * includes the ones admitted ahead of it; a unit that throws has its own writes undone and does
 * not touch the others. A unit's promise settles only after the commit is durable: whatever it
 * returns (a signature) is released to its caller only once it is on record.
 *
 * A unit must not keep anything it read before its own writes in a cache that outlives it, since
 * those writes may be undone; the ledger cache reads only at the start of a unit, see there.
 */
export class GroupCommit {
  #queue: Pending[] = [];
  #running = false;
  #batchSize = 0;
  #idle: (() => void)[] = [];

  /** @param maxUnits the most units in one transaction: a bound on one batch's latency. */
  constructor(
    private readonly store: Store,
    readonly maxUnits = 128,
  ) {}

  /** How many units the batch now running holds (0 between batches): a unit may ask it. */
  get batchSize(): number {
    return this.#batchSize;
  }

  /** Resolves once no batch runs or waits (at once if none does). */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  run<T>(unit: (sync: SyncTx) => UnitResult<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ unit, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#running) {
        this.#running = true;
        // After the current turn: the requests that arrive in it join the same transaction.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxUnits);
        this.#batchSize = batch.length;
        try {
          const outcomes = await this.store.batch(batch.map((p) => p.unit));
          outcomes.forEach((outcome, i) => {
            const pending = batch[i]!;
            if (outcome.ok) pending.resolve(outcome.value);
            else pending.reject(outcome.error);
          });
        } catch (err) {
          // The transaction could not begin or commit (or a unit's later step could not be
          // abandoned): nothing of the batch was written.
          for (const pending of batch) pending.reject(err);
        }
      }
    } finally {
      this.#running = false;
      this.#batchSize = 0;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
