import type { SyncTx } from './store.ts';

/**
 * What a unit of `Store.batch` returns when it must wait for something (a signature made on
 * another thread) before it can finish: the batch runs every unit's first step, waits for all the
 * units' `pending` at once, the transaction still open and the connection still held, then runs
 * each `finish` in order. The first step may write what only `finish` makes true, so a `finish`
 * that throws fails the whole batch: nothing of it is written, every unit rejects. (`pending`
 * should therefore come to a value that `finish` can always record, never to a rejection.)
 */
export class LaterStep<T, V = unknown> {
  constructor(
    readonly pending: Promise<V>,
    readonly finish: (sync: SyncTx, settled: PromiseSettledResult<V>) => T,
  ) {}
}

/** A unit's value, or its second step (whatever it waits for: each step's own types are checked where it is made). */
// biome-ignore lint/suspicious/noExplicitAny: the batch holds steps waiting for values of every type
export type UnitResult<T> = T | LaterStep<T, any>;
