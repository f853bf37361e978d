import type { Db } from '../store/store.ts';
import type { StoredRecord } from './record.ts';
import type { StoredCheckpoint } from './rows.ts';
import { toStoredCheckpoint, toStoredRecord } from './rows.ts';

/**
 * Forward-only cursors over the log and the checkpoints, read in pages by keyset (never OFFSET), so
 * verifying a log of any length holds one page of each in memory. `peek` lets the verifier look one
 * record ahead when it classifies a break. Both can start part-way (after a seq), which is how the
 * start-up check reads only the records after the verified mark.
 */

/**
 * Rows per query: large enough that per-query overhead stays small, small enough that a page's
 * work (its details opened and its hashes checked: about 10 ms) is a short slice. A running
 * server walks the records since the verified mark at each checkpoint, and the cursor leaves the
 * event loop to requests between pages.
 */
export const PAGE_SIZE = 250;

abstract class PagedCursor<T> {
  private page: T[] = [];
  private index = 0;
  private done = false;

  protected abstract fetch(): Promise<T[]>;
  protected abstract advanced(last: T): void;

  /** Called with each page as it is read, before its first item is handed out. */
  protected onPage(_page: readonly T[]): Promise<void> | void {}

  async peek(): Promise<T | undefined> {
    if (this.index >= this.page.length && !this.done) {
      this.page = await this.fetch();
      this.index = 0;
      const last = this.page[this.page.length - 1];
      if (last === undefined || this.page.length < PAGE_SIZE) this.done = true;
      if (last !== undefined) this.advanced(last);
      await this.onPage(this.page);
      // Between pages, whatever else waits runs (a query alone would only take a microtask).
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.page[this.index];
  }

  async next(): Promise<T | undefined> {
    const item = await this.peek();
    if (item !== undefined) this.index++;
    return item;
  }
}

export class RecordCursor extends PagedCursor<StoredRecord> {
  /**
   * `afterSeq`: start after this seq (the default reads every row, even a stray seq below 1).
   * `pageHook`: sees each page first; the verifier authenticates a whole page in one batch there.
   */
  constructor(
    private readonly db: Db,
    private afterSeq = Number.NEGATIVE_INFINITY,
    private readonly pageHook?: (page: readonly StoredRecord[]) => Promise<void>,
  ) {
    super();
  }

  protected override onPage(page: readonly StoredRecord[]): Promise<void> | void {
    return this.pageHook?.(page);
  }

  protected async fetch(): Promise<StoredRecord[]> {
    let query = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'asc').limit(PAGE_SIZE);
    if (this.afterSeq !== Number.NEGATIVE_INFINITY) query = query.where('seq', '>', this.afterSeq);
    const rows = await query.execute();
    return rows.map((r) => toStoredRecord(r as unknown as Record<string, unknown>));
  }

  protected advanced(last: StoredRecord): void {
    this.afterSeq = last.seq;
  }
}

/**
 * Checkpoints in seq order, limited to those with id <= `maxId`: the ones committed before the walk
 * began. A checkpoint written by a concurrent append during the walk could name a record the walk
 * has already passed the end of, which would look like truncation.
 */
export class CheckpointCursor extends PagedCursor<StoredCheckpoint> {
  private after: { seq: number; id: number } | undefined;

  /** `afterSeq`: only checkpoints naming a later seq (the start-up check judges earlier ones apart). */
  constructor(
    private readonly db: Db,
    private readonly maxId: number,
    afterSeq?: number,
  ) {
    super();
    if (afterSeq !== undefined) this.after = { seq: afterSeq, id: Number.MAX_SAFE_INTEGER };
  }

  protected async fetch(): Promise<StoredCheckpoint[]> {
    const after = this.after;
    let query = this.db
      .selectFrom('audit_checkpoint')
      .selectAll()
      .where('id', '<=', this.maxId)
      .orderBy('seq', 'asc')
      .orderBy('id', 'asc')
      .limit(PAGE_SIZE);
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('seq', '>', after.seq), eb.and([eb('seq', '=', after.seq), eb('id', '>', after.id)])]),
      );
    }
    const rows = await query.execute();
    return rows.map((r) => toStoredCheckpoint(r as unknown as Record<string, unknown>));
  }

  protected advanced(last: StoredCheckpoint): void {
    this.after = { seq: last.seq, id: last.id };
  }
}
