import type { Db } from '../store/store.ts';
import type { StoredRecord } from './record.ts';
import type { StoredCheckpoint } from './rows.ts';
import { toStoredCheckpoint, toStoredRecord } from './rows.ts';

/**
 * Forward-only cursors over the log and the checkpoints, read in pages by keyset (never OFFSET), so
 * verifying a log of any length holds one page of each in memory. `peek` lets the verifier look one
 * record ahead when it classifies a break.
 */

export const PAGE_SIZE = 500;

abstract class PagedCursor<T> {
  private page: T[] = [];
  private index = 0;
  private done = false;

  protected abstract fetch(): Promise<T[]>;
  protected abstract advanced(last: T): void;

  async peek(): Promise<T | undefined> {
    if (this.index >= this.page.length && !this.done) {
      this.page = await this.fetch();
      this.index = 0;
      const last = this.page[this.page.length - 1];
      if (last === undefined || this.page.length < PAGE_SIZE) this.done = true;
      if (last !== undefined) this.advanced(last);
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
  private afterSeq = Number.NEGATIVE_INFINITY;

  constructor(private readonly db: Db) {
    super();
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

  constructor(
    private readonly db: Db,
    private readonly maxId: number,
  ) {
    super();
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
