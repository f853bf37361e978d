import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, type Migration, Migrator, SqliteDialect, sql } from 'kysely';
import { WardenError } from '../core/errors.ts';
import {
  attachCommittedReads,
  type CommittedReads,
  openCommittedReads,
  openReadonlyConnection,
} from './committed-reads.ts';
import { LaterStep, type UnitResult } from './later-step.ts';
import { migrationProvider } from './migrations.ts';
import type { Schema } from './schema.ts';
import { preparedOnce, rowReads, StatementCache } from './statements.ts';

export type Db = Kysely<Schema>;

/**
 * Synchronous statements on the connection of the write transaction that is open: what the hot
 * path (admission, signing, settling) and the writes it shares with slower paths run, so that a
 * request costs no query building and no round trip through promises. Parameters are positional.
 */
export interface SyncTx {
  get<R>(sql: string, params?: readonly unknown[]): R | undefined;
  all<R>(sql: string, params?: readonly unknown[]): R[];
  /** Rows one at a time; the statement must not run again until the iteration ends. */
  iterate<R>(sql: string, params?: readonly unknown[]): IterableIterator<R>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): number;
  /**
   * Values read once per write transaction (the audit head, the ledger version), kept by the
   * rooms that read them, and kept current by their writers. While the transaction holds the write
   * lock nobody else can change them; the store empties it when a transaction begins or ends and
   * when a unit rolls back.
   */
  readonly memo: Map<string, unknown>;
}

/** A write transaction: the typed handle, and the same transaction's synchronous statements. */
export type WriteTx = Db & { readonly sync: SyncTx };

/** What one unit of a group commit came to: its value, or the error it threw (its writes undone). */
export type UnitOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * The store: a typed Kysely handle plus a write transaction that is exclusive across processes
 * (SQLite BEGIN IMMEDIATE), so read-then-write sequences (audit chain head, budget windows)
 * never interleave. A PostgreSQL backend implements the same interface.
 */
export interface Store {
  readonly db: Db;
  /** The database file, or null for one that lives in memory (no other connection can open it). */
  readonly path: string | null;
  /** One write transaction; `tx.sync` runs statements on the same connection, inside it. */
  transaction<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /**
   * Group commit: the units run in order, synchronously, in one write transaction and one fsync.
   * Each unit runs in its own savepoint: one that throws has its writes undone and the others still
   * commit. Each unit sees the writes of the units before it. A unit may return a `LaterStep`: its
   * second step runs after every unit's first, once what it waits for settles, still in the
   * transaction (later-step.ts). Resolves once the commit is durable; rejects (every unit lost,
   * nothing written) when the transaction itself cannot begin or commit, or when a later step
   * can neither finish nor be abandoned.
   */
  batch<T>(units: readonly ((sync: SyncTx) => UnitResult<T>)[]): Promise<UnitOutcome<T>[]>;
  close(): Promise<void>;
}

/**
 * Opens (creating if need be) the database at `path` and brings it to the latest schema: the
 * store's own migrations and `migrations` registered by protocol modules for their tables.
 */
export async function openSqliteStore(
  path: string,
  migrations: Readonly<Record<string, Migration>> = {},
): Promise<Store> {
  let sqlite: Database.Database;
  try {
    // The file exists with mode 0600 before SQLite opens it (never briefly world-readable), and
    // an existing one is tightened: it holds the audit log and the ledger.
    if (path !== ':memory:') {
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    }
    sqlite = new Database(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
  } catch (cause) {
    throw new WardenError('STORE_ERROR', 'cannot open the database', { path }, { cause });
  }
  const statements = new StatementCache(sqlite);
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: preparedOnce(sqlite, statements) }),
  });
  const sync = syncTx(statements);
  let reads: CommittedReads | null = null;
  let detachReads = () => {};
  const store: Store = {
    db,
    path: path === ':memory:' ? null : path,
    // Both kinds of transaction hold Kysely's one connection while they run, so they never
    // interleave with each other or with a query outside any transaction.
    async transaction(fn) {
      return db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        sync.memo.clear();
        try {
          const result = await fn(Object.assign(conn, { sync }));
          await sql`COMMIT`.execute(conn);
          return result;
        } catch (err) {
          // A failed ROLLBACK (SQLite may have rolled back already) must not hide the real error.
          await sql`ROLLBACK`.execute(conn).catch(() => undefined);
          throw err;
        } finally {
          sync.memo.clear();
        }
      });
    },
    async batch(units) {
      return db.connection().execute(async () => runBatch(sync, units));
    },
    async close() {
      detachReads();
      reads?.close();
      await db.destroy();
    },
  };
  try {
    await migrate(db, migrations);
    // Tied once the schema is there; its connection opens at the first read.
    if (path !== ':memory:') {
      reads = openCommittedReads(path);
      detachReads = attachCommittedReads(db, reads);
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return store;
}

/**
 * A second, read-only connection to the database file at `path` (no migrations, no writes): for
 * work that reads the log on another thread while the store's own connection goes on writing.
 * WAL lets it read committed data without ever blocking the writer.
 */
export function openSqliteReader(path: string): { db: Db; close(): Promise<void> } {
  const sqlite = openReadonlyConnection(path);
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: preparedOnce(sqlite, new StatementCache(sqlite)) }),
  });
  return { db, close: () => db.destroy() };
}

function syncTx(statements: StatementCache): SyncTx {
  return {
    ...rowReads(() => statements),
    iterate: <R>(text: string, params: readonly unknown[] = []) =>
      statements.get(text).iterate(...params) as IterableIterator<R>,
    run: (text, params = []) => statements.get(text).run(...params).changes,
    memo: new Map(),
  };
}

async function runBatch<T>(
  sync: SyncTx,
  units: readonly ((sync: SyncTx) => UnitResult<T>)[],
): Promise<UnitOutcome<T>[]> {
  sync.run('BEGIN IMMEDIATE');
  sync.memo.clear();
  const outcomes: UnitOutcome<T>[] = [];
  const laters: { index: number; step: LaterStep<T> }[] = [];
  try {
    units.forEach((unit, index) => {
      const outcome = inSavepoint(sync, () => unit(sync));
      if (outcome.ok && outcome.value instanceof LaterStep) laters.push({ index, step: outcome.value });
      outcomes.push(outcome as UnitOutcome<T>);
    });
    if (laters.length > 0) {
      // The transaction stays open and the connection held: nothing else writes meanwhile.
      const settled = await Promise.allSettled(laters.map((l) => l.step.pending));
      // One savepoint for them all; only if one throws are they run again, each in its own.
      const all = inSavepoint(sync, () => laters.map(({ step }, i) => step.finish(sync, settled[i]!)));
      laters.forEach(({ index, step }, i) => {
        if (all.ok) {
          outcomes[index] = { ok: true, value: all.value[i]! };
          return;
        }
        const finished = inSavepoint(sync, () => step.finish(sync, settled[i]!));
        if (!finished.ok) {
          // Its first step must not commit alone: what `abandon` writes, or the batch fails.
          const abandoned = inSavepoint(sync, () => step.abandon(sync, finished.error));
          if (!abandoned.ok) throw abandoned.error;
        }
        outcomes[index] = finished;
      });
    }
    sync.run('COMMIT');
    return outcomes;
  } catch (err) {
    try {
      sync.run('ROLLBACK');
    } catch {
      // SQLite may have rolled back already; the error that matters is the first one.
    }
    throw err;
  } finally {
    sync.memo.clear();
  }
}

/** `fn` in a savepoint of its own: what it wrote is undone if it throws, and the error returned. */
function inSavepoint<R>(sync: SyncTx, fn: () => R): UnitOutcome<R> {
  sync.run('SAVEPOINT unit');
  try {
    const value = fn();
    sync.run('RELEASE unit');
    return { ok: true, value };
  } catch (error) {
    sync.run('ROLLBACK TO unit');
    sync.run('RELEASE unit');
    sync.memo.clear(); // it may hold what the unit wrote
    return { ok: false, error };
  }
}

async function migrate(db: Db, extra: Readonly<Record<string, Migration>>): Promise<void> {
  // Module migrations interleave with the store's by name (protocols/evm/…): each touches its
  // own tables only, so one registered later than a newer store migration still runs.
  const migrator = new Migrator({ db, provider: migrationProvider(extra), allowUnorderedMigrations: true });
  const { error } = await migrator.migrateToLatest();
  if (error) throw new WardenError('STORE_ERROR', 'database migration failed', {}, { cause: error });
}
