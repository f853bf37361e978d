import type { SyncTx } from './store.ts';

/**
 * What a unit of `Store.batch` returns when it must wait for something (a signature made on
 * another thread) before it can finish: the batch runs every unit's first step, waits for all the
 * units' `pending` at once, the transaction still open and the connection still held, then runs
 * each `finish` in order, all in one savepoint. If one throws, that savepoint is undone and each
 * `finish` runs again in a savepoint of its own: a `finish` may run twice, the first time undone,
 * so it must not act outside the transaction (what it computes is released only after the commit).
 *
 * The first step may write what only `finish` makes true (a request written done, its result to
 * come), so a `finish` that throws has its writes undone and `abandon` writes what is true
 * instead (the request failed, nothing released); the unit then rejects with the error `finish`
 * threw. Only if `abandon` throws too does the whole batch fail, so that the first step is never
 * committed alone.
 *
 * `pending` must never wait for the store: the batch holds its only connection until it settles.
 * It should come to a value `finish` can record rather than reject, and soon: the write lock is
 * held meanwhile.
 */
export class LaterStep<T, V = unknown> {
  constructor(
    readonly pending: Promise<V>,
    readonly finish: (sync: SyncTx, settled: PromiseSettledResult<V>) => T,
    readonly abandon: (sync: SyncTx, error: unknown) => void,
  ) {}
}

/** A unit's value, or its second step (whatever it waits for: each step's own types are checked where it is made). */
// biome-ignore lint/suspicious/noExplicitAny: the batch holds steps waiting for values of every type
export type UnitResult<T> = T | LaterStep<T, any>;
