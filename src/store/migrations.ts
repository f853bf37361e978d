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
  '0002_gateway': {
    async up(db: Kysely<unknown>) {
      // One policy document per identity; identity '*' is the default for identities without one.
      await db.schema
        .createTable('policy')
        .addColumn('identity', 'text', (c) => c.primaryKey())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('set_at', 'text', (c) => c.notNull())
        .addColumn('set_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('token')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'blob', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('identity', 'text')
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      // Every non-dry-run request, with its decision and outcome. The raw payload is sealed with the
      // audit details key (it may hold content) and kept only as long as it may still be signed.
      await db.schema
        .createTable('request')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('token_id', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('intent', 'text', (c) => c.notNull())
        .addColumn('intent_hash', 'text', (c) => c.notNull())
        .addColumn('payload', 'blob')
        .addColumn('idempotency_key', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('hold_approvals', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('hold_delay_ms', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('result', 'text')
        .addColumn('error_code', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('request_idempotency')
        .on('request')
        .columns(['identity', 'idempotency_key'])
        .unique()
        .where(sql.ref('idempotency_key'), 'is not', null)
        .execute();
      await db.schema.createIndex('request_status').on('request').columns(['status', 'created_at']).execute();
      await db.schema
        .createTable('approval')
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('operator', 'text', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('intent_hash', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('approval_pk', ['request_id', 'operator'])
        .execute();
      // The budget ledger. Amounts are decimal text: wei overflows SQLite's 64-bit integers.
      await db.schema
        .createTable('ledger')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('asset', 'text', (c) => c.notNull())
        .addColumn('destination', 'text')
        .addColumn('kind', 'integer')
        .addColumn('chain_id', 'integer')
        .addColumn('contract', 'text')
        .addColumn('function_selector', 'text')
        .addColumn('amount', 'text', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('ledger_window')
        .on('ledger')
        .columns(['identity', 'asset', 'at'])
        .execute();
      await db.schema
        .createIndex('ledger_destination')
        .on('ledger')
        .columns(['identity', 'destination', 'status'])
        .execute();
      await db.schema.createIndex('ledger_request').on('ledger').columns(['request_id']).execute();
      // The EVM nonce table that was created here now belongs to its module's migrations, which
      // create it where it is missing (protocols/evm/migrations.ts).
    },
  },
  '0003_evm_nonce_address': {
    async up() {
      // Moved with its table to the EVM module's migrations; kept by name, as databases that
      // ran it remember it.
    },
  },
  '0004_ledger_version': {
    async up(db: Kysely<unknown>) {
      // Every insert and status change of a ledger row takes the next version, so a process can
      // bring its copy of a budget's entries up to date by reading only the rows changed since.
      await db.schema
        .alterTable('ledger')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('ledger_version').on('ledger').column('version').execute();
      // Readers trust the version to name every change: the database refuses a change without a
      // newer one (a hand edit, an older build still running), and ledger rows are never deleted.
      await sql`CREATE TRIGGER ledger_version_increases BEFORE UPDATE ON ledger
        WHEN NEW.version <= OLD.version
        BEGIN SELECT RAISE(ABORT, 'ledger rows change only with a newer version'); END`.execute(db);
      await sql`CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
        BEGIN SELECT RAISE(ABORT, 'ledger rows are never deleted'); END`.execute(db);
    },
  },
  '0005_control_plane_mac': {
    async up(db: Kysely<unknown>) {
      // Token and policy rows are authenticated with a key from the vault, which a migration does
      // not have: older rows stay null here and are adopted once at the next unseal, only if the
      // audit log vouches for them (gateway/control-plane-adopt.ts); a null MAC is refused otherwise.
      await db.schema.alterTable('token').addColumn('mac', 'blob').execute();
      await db.schema.alterTable('policy').addColumn('mac', 'blob').execute();
    },
  },
  '0006_ledger_fee': {
    async up(db: Kysely<unknown>) {
      // Fees are money: every entry books its fee beside its amount, the worst case until the fee
      // actually paid is known (fee_final 0), then that fee (fee_final 1). Rows from before had
      // none booked: fee 0, final (nothing is left to learn about them).
      await db.schema
        .alterTable('ledger')
        .addColumn('fee', 'text', (c) => c.notNull().defaultTo('0'))
        .execute();
      await db.schema
        .alterTable('ledger')
        .addColumn('fee_final', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      // Only committed rows still waiting for their paid fee are looked up by it: keep that small.
      await db.schema
        .createIndex('ledger_fee_open')
        .on('ledger')
        .column('request_id')
        .where(sql.ref('fee_final'), '=', 0)
        .execute();
    },
  },
  '0007_request_kept_payloads': {
    async up(db: Kysely<unknown>) {
      // Risk denials whose payload is kept for an operator are counted per identity at every such
      // denial and expired every second: this index holds only those rows, so both stay cheap
      // however many denials the table has.
      await sql`CREATE INDEX request_kept_denials ON request (identity, created_at)
        WHERE status = 'denied' AND payload IS NOT NULL`.execute(db);
    },
  },
  '0008_approval_mac': {
    async up(db: Kysely<unknown>) {
      // Approvals release held requests: each row is authenticated with the control-plane key, so
      // one inserted by a process without the vault never counts. Older rows (null) never count
      // either: their requests need approving again.
      await db.schema.alterTable('approval').addColumn('mac', 'blob').execute();
    },
  },
  '0009_generic_facets': {
    async up(db: Kysely<unknown>) {
      // Protocol modules declare what policy may match on (facets); the ledger books them as one
      // JSON object instead of one column per protocol field. Rows from before get theirs from
      // the old columns, under the names the modules use.
      await db.schema
        .alterTable('ledger')
        .addColumn('facets', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      const rows = await sql<{
        id: string;
        kind: number | null;
        chain_id: number | null;
        contract: string | null;
        function_selector: string | null;
      }>`SELECT id, kind, chain_id, contract, function_selector FROM ledger`.execute(db);
      // The trigger refuses a change without a newer version; this one changes no amount or
      // status, so it is lifted for the copy and put back as it was.
      await sql`DROP TRIGGER ledger_version_increases`.execute(db);
      for (const r of rows.rows) {
        const facets: Record<string, string | number> = {};
        if (r.chain_id !== null) facets.chain_id = r.chain_id;
        if (r.contract !== null) facets.contract = r.contract.toLowerCase();
        if (r.function_selector !== null) facets.function = r.function_selector.toLowerCase();
        if (r.kind !== null) facets.kind = r.kind;
        await sql`UPDATE ledger SET facets = ${JSON.stringify(facets)} WHERE id = ${r.id}`.execute(db);
      }
      await sql`CREATE TRIGGER ledger_version_increases BEFORE UPDATE ON ledger
        WHEN NEW.version <= OLD.version
        BEGIN SELECT RAISE(ABORT, 'ledger rows change only with a newer version'); END`.execute(db);
      for (const column of ['kind', 'chain_id', 'contract', 'function_selector'])
        await db.schema.alterTable('ledger').dropColumn(column).execute();
      // The one key of a request's operation (its module's registry name): what a held request
      // is opened and executed with. Before, it was protocol and action.
      await db.schema
        .alterTable('request')
        .addColumn('operation', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await sql`UPDATE request SET operation = protocol || '.' || action`.execute(db);
    },
  },
  '0010_audit_indexes': {
    async up(db: Kysely<unknown>) {
      // Unsealing reads a few kinds of audit record (token revocations, policy changes, the
      // control-plane adoption): by action, not by scanning a log of millions. And checkpoints are
      // read by seq (the start-up check reads those after the verified mark).
      await db.schema
        .createIndex('audit_log_action')
        .on('audit_log')
        .columns(['action', 'outcome', 'seq'])
        .execute();
      await db.schema
        .createIndex('audit_checkpoint_seq')
        .on('audit_checkpoint')
        .columns(['seq', 'id'])
        .execute();
    },
  },
  '0011_request_scheduled': {
    async up(db: Kysely<unknown>) {
      // When a send held back by timing jitter is due (ISO time); null once it leaves, and for
      // everything that is not waiting. The status stays `executing` meanwhile: reconcile, restore
      // and the stuck list treat a scheduled send as the execution it is.
      await db.schema.alterTable('request').addColumn('scheduled_for', 'text').execute();
    },
  },
  '0012_request_executor': {
    async up(db: Kysely<unknown>) {
      // Which process runs an `executing` request (its executor id, store/executor-lock.ts), so a
      // process that starts takes over only the rows of processes that are gone, never a live
      // one's. Rows from before have none: they stay to the operator (reconcile after 10 minutes).
      await db.schema.alterTable('request').addColumn('executor', 'text').execute();
    },
  },
  '0013_nwc_connection': {
    async up(db: Kysely<unknown>) {
      // NIP-47 connections (api/nwc/): principals authenticated by a client key, each with the
      // public key of its own wallet service key; a row carries the control-plane MAC like a token.
      await db.schema
        .createTable('nwc_connection')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('client_pubkey', 'text', (c) => c.notNull().unique())
        .addColumn('service_pubkey', 'text', (c) => c.notNull().unique())
        .addColumn('methods', 'text', (c) => c.notNull())
        .addColumn('encryptions', 'text', (c) => c.notNull())
        .addColumn('relays', 'text', (c) => c.notNull())
        .addColumn('budget_asset', 'text')
        .addColumn('budget_max', 'text')
        .addColumn('budget_window', 'text')
        .addColumn('hold_wait_seconds', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('mac', 'blob', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('nwc_event')
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('nwc_event_received').on('nwc_event').column('received_at').execute();
    },
  },
  '0014_content': {
    async up(db: Kysely<unknown>) {
      // Texts stored once by their SHA-256 (store/content.ts): a request's risk assessment is the
      // same catalog rows' text in every request of its kind (2 KB of a 2.8 KB decision), and
      // its row and audit record name it by hash instead of copying it. Rows from before keep theirs.
      await db.schema
        .createTable('content')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      // Rows and audit records name these texts: a text once stored stays as it is.
      await sql`CREATE TRIGGER content_no_update BEFORE UPDATE ON content
        BEGIN SELECT RAISE(ABORT, 'content is append-only'); END`.execute(db);
      await sql`CREATE TRIGGER content_no_delete BEFORE DELETE ON content
        BEGIN SELECT RAISE(ABORT, 'content is append-only'); END`.execute(db);
    },
  },
  '0015_ledger_destination_partial': {
    async up(db: Kysely<unknown>) {
      // Only entries with a destination are looked up by it (knownDestinations: `destination IN
      // (…)`, which SQLite takes to imply IS NOT NULL): the entries without one (every Nostr
      // signature) no longer each write a leaf page of this index.
      await sql`DROP INDEX ledger_destination`.execute(db);
      await sql`CREATE INDEX ledger_destination ON ledger (identity, destination, status)
        WHERE destination IS NOT NULL`.execute(db);
    },
  },
};

/**
 * The store's migrations and those rooms and protocol modules register (their own tables), in
 * one name order. Module migrations are named `<module>/<nnnn>_<what>`; each touches only its
 * own tables, so they run in name order among the others, wherever they fall.
 */
export function migrationProvider(extra: Readonly<Record<string, Migration>> = {}): MigrationProvider {
  for (const name of Object.keys(extra)) {
    if (!/^[a-z0-9-]+\/[0-9]{4}_[a-z0-9_]+$/.test(name) || name in migrations)
      throw new Error(`bad module migration name ${name}`);
  }
  return {
    async getMigrations() {
      return { ...migrations, ...extra };
    },
  };
}
