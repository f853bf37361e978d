/**
 * A database from before protocol modules (migrations up to 0008, the EVM nonce table made by the
 * store itself, ledger rows with one column per protocol field) opens under the new schema with
 * nothing lost: facets from the old columns, the operation of each request, nonces kept.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import type { EvmDb } from '../../src/protocols/evm/nonces.ts';
import { MODULE_MIGRATIONS } from '../../src/protocols/registry.ts';
import { migrationProvider } from '../../src/store/migrations.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';

async function databaseBeforeModules(path: string): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  try {
    const migrator = new Migrator({ db, provider: migrationProvider() });
    const { error } = await migrator.migrateTo('0008_approval_mac');
    assert.equal(error, undefined);
    // What 0002 and 0003 made before the table moved to the EVM module.
    await sql`CREATE TABLE evm_nonce (identity text NOT NULL, chain_id integer NOT NULL,
      next_nonce integer NOT NULL, address text NOT NULL DEFAULT '',
      CONSTRAINT evm_nonce_pk PRIMARY KEY (identity, chain_id))`.execute(db);
    await sql`INSERT INTO evm_nonce VALUES ('treasury', 42161, 7, '0xabc')`.execute(db);
    const rows: [string, string, string, number | null, number | null, string | null, string | null][] = [
      ['led_1', 'nostr', 'sign_event', 1, null, null, null],
      ['led_2', 'evm', 'send', null, 42161, null, null],
      ['led_3', 'evm', 'call', null, 1, '0xAbC0000000000000000000000000000000000001', '0xA9059CBB'],
      ['led_4', 'bitcoin', 'send', null, null, null, null],
    ];
    for (const [id, protocol, action, kind, chainId, contract, selector] of rows) {
      await sql`INSERT INTO ledger (id, request_id, identity, protocol, action, asset, destination, kind,
        chain_id, contract, function_selector, amount, at, status, updated_at, version, fee, fee_final)
        VALUES (${id}, ${`req_${id}`}, 'treasury', ${protocol}, ${action}, 'x', null, ${kind}, ${chainId},
        ${contract}, ${selector}, '5', 1, 'committed', 'now', ${Number(id.slice(4))}, '0', 1)`.execute(db);
      await sql`INSERT INTO request (id, identity, token_id, protocol, action, intent, intent_hash, status,
        decision, created_at, updated_at) VALUES (${`req_${id}`}, 'treasury', 'tok', ${protocol}, ${action},
        '{}', 'h', 'done', '{}', 'now', 'now')`.execute(db);
    }
  } finally {
    await db.destroy();
  }
}

test('a database from before protocol modules keeps every row: facets, operations, nonces', async () => {
  const path = join(tempDir('facets-migration'), 'warden.db');
  await databaseBeforeModules(path);
  const store = await openSqliteStore(path, MODULE_MIGRATIONS);
  try {
    const ledger = await store.db.selectFrom('ledger').select(['id', 'facets']).orderBy('id').execute();
    assert.deepEqual(
      ledger.map((r) => [r.id, JSON.parse(r.facets)]),
      [
        ['led_1', { kind: 1 }],
        ['led_2', { chain_id: 42161 }],
        [
          'led_3',
          { chain_id: 1, contract: '0xabc0000000000000000000000000000000000001', function: '0xa9059cbb' },
        ],
        ['led_4', {}],
      ],
    );
    // Keys in one order, as the ledger books new rows (canonical).
    assert.equal(
      ledger[2]!.facets,
      '{"chain_id":1,"contract":"0xabc0000000000000000000000000000000000001","function":"0xa9059cbb"}',
    );
    const columns = await sql<{ name: string }>`SELECT name FROM pragma_table_info('ledger')`.execute(
      store.db,
    );
    for (const gone of ['kind', 'chain_id', 'contract', 'function_selector'])
      assert.ok(!columns.rows.some((c) => c.name === gone), `${gone} is gone`);
    const requests = await store.db.selectFrom('request').select(['id', 'operation']).orderBy('id').execute();
    assert.deepEqual(
      requests.map((r) => r.operation),
      ['nostr.sign_event', 'evm.send', 'evm.call', 'bitcoin.send'],
    );
    const nonces = await (store.db as unknown as EvmDb).selectFrom('evm_nonce').selectAll().execute();
    assert.deepEqual(nonces, [{ identity: 'treasury', chain_id: 42161, next_nonce: 7, address: '0xabc' }]);
    // The version trigger is back: a change without a newer version is refused.
    await assert.rejects(
      sql`UPDATE ledger SET status = 'released' WHERE id = 'led_1'`.execute(store.db),
      /newer version/,
    );
  } finally {
    await store.close();
  }
});

test('a database made by this version opened without the modules it used is refused, not half-read', async () => {
  const path = join(tempDir('facets-migration'), 'warden.db');
  const first = await openSqliteStore(path, MODULE_MIGRATIONS);
  await first.close();
  await assert.rejects(openSqliteStore(path), (e: Error) => /migration/.test(e.message));
});
