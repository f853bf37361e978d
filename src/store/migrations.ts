import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

/**
 * Versioned migrations, applied in name order at start. Never edit a released migration:
 * add a new one. Column types are portable between SQLite and PostgreSQL (blob/bytea aside,
 * which a PostgreSQL dialect maps).
 */
const migrations: Record<string, Migration> = {
  '0001_meta_and_audit': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('identity', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('details', 'blob')
        .addColumn('prev_hash', 'blob', (c) => c.notNull())
        .addColumn('record_hash', 'blob', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_log_identity')
        .on('audit_log')
        .columns(['identity', 'seq'])
        .execute();
      await db.schema
        .createTable('audit_checkpoint')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('record_hash', 'blob', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('signature', 'blob', (c) => c.notNull())
        .execute();
      // The audit log is append-only at the database level too: updates and deletes abort.
      await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
      await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
