import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, type Migration, Migrator, SqliteDialect, sql } from 'kysely';
import { WardenError } from '../core/errors.ts';
import { migrationProvider } from './migrations.ts';
import type { Schema } from './schema.ts';

export type Db = Kysely<Schema>;

/**
 * The store: a typed Kysely handle plus a write transaction that is exclusive across processes
 * (SQLite BEGIN IMMEDIATE), so read-then-write sequences (audit chain head, budget windows)
 * never interleave. A PostgreSQL backend implements the same interface.
 */
export interface Store {
  readonly db: Db;
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
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
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  const store: Store = {
    db,
    async transaction(fn) {
      return db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`COMMIT`.execute(conn);
          return result;
        } catch (err) {
          // A failed ROLLBACK (SQLite may have rolled back already) must not hide the real error.
          await sql`ROLLBACK`.execute(conn).catch(() => undefined);
          throw err;
        }
      });
    },
    async close() {
      await db.destroy();
    },
  };
  try {
    await migrate(db, migrations);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return store;
}

async function migrate(db: Db, extra: Readonly<Record<string, Migration>>): Promise<void> {
  // Module migrations interleave with the store's by name (protocols/evm/…): each touches its
  // own tables only, so one registered later than a newer store migration still runs.
  const migrator = new Migrator({ db, provider: migrationProvider(extra), allowUnorderedMigrations: true });
  const { error } = await migrator.migrateToLatest();
  if (error) throw new WardenError('STORE_ERROR', 'database migration failed', {}, { cause: error });
}
