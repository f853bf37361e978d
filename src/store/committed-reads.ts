import Database from 'better-sqlite3';
import { WardenError } from '../core/errors.ts';
import { type RowReads, rowReads, StatementCache } from './statements.ts';
import type { Db } from './store.ts';

/**
 * Synchronous reads of committed data, on a read-only connection of their own: what the hot path
 * reads outside any transaction for every request (its token, its policy). With WAL they never
 * wait for the writer's connection, whose transaction may be open across awaits (an operator's
 * change, a checkpoint), and they never see such a transaction before it commits. Through Kysely
 * the same read builds its query and queues for the writer's one connection (about 11 µs, and
 * the wait). Prepared once, run at once, nothing held between calls.
 */
export interface CommittedReads extends RowReads {
  close(): void;
}

/** A read-only connection to the database file at `path`, which must exist (no migrations here). */
export function openReadonlyConnection(path: string): Database.Database {
  try {
    const sqlite = new Database(path, { readonly: true, fileMustExist: true });
    sqlite.pragma('query_only = ON');
    sqlite.pragma('busy_timeout = 10000');
    return sqlite;
  } catch (cause) {
    throw new WardenError('STORE_ERROR', 'cannot open the database for reading', { path }, { cause });
  }
}

/**
 * The committed reads of the database at `path`. The connection opens at the first read, so a
 * store that never reads a token or a policy (most CLI commands) never opens it.
 */
export function openCommittedReads(path: string): CommittedReads {
  let open: { sqlite: Database.Database; statements: StatementCache } | null = null;
  let closed = false;
  const statements = () => {
    if (closed) throw new WardenError('STORE_ERROR', 'the store is closed');
    if (!open) {
      const sqlite = openReadonlyConnection(path);
      open = { sqlite, statements: new StatementCache(sqlite) };
    }
    return open.statements;
  };
  return {
    ...rowReads(statements),
    close() {
      closed = true;
      open?.sqlite.close();
      open = null;
    },
  };
}

const byDb = new WeakMap<Db, CommittedReads>();

/**
 * Ties a store's committed reads to its own handle (store.ts, when it opens the file); returns
 * the untie, for close: a closed store's handle then reads through Kysely, which refuses.
 */
export function attachCommittedReads(db: Db, reads: CommittedReads): () => void {
  byDb.set(db, reads);
  return () => byDb.delete(db);
}

/**
 * The committed reads of the store whose own handle `db` is, or null: a database in memory has
 * none (no second connection can open it), and a transaction's handle is another object, whose
 * reads must see that transaction's own writes. Callers then read through `db`.
 */
export function committedReadsOf(db: Db): CommittedReads | null {
  return byDb.get(db) ?? null;
}
