import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import type { EvmDb } from '../../src/protocols/evm/nonces.ts';
import { MODULE_MIGRATIONS } from '../../src/protocols/registry.ts';
import { migrationProvider } from '../../src/store/migrations.ts';
import { openSqliteStore, type Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';

const STORE_MODULE = new URL('../../src/store/store.ts', import.meta.url).href;

function dbPath(): string {
  return join(tempDir('store'), 'warden.db');
}

async function pragma(store: Store, name: string): Promise<unknown> {
  const { rows } = await sql<Record<string, unknown>>`${sql.raw(`PRAGMA ${name}`)}`.execute(store.db);
  return Object.values(rows[0] ?? {})[0];
}

async function appliedMigrations(store: Store): Promise<{ name: string; timestamp: string }[]> {
  // rowid order is insertion order: the order in which the migrations were applied.
  const { rows } = await sql<{
    name: string;
    timestamp: string;
  }>`SELECT name, timestamp FROM kysely_migration ORDER BY rowid`.execute(store.db);
  return rows;
}

async function metaKeys(store: Store): Promise<string[]> {
  const rows = await store.db.selectFrom('meta').select('key').orderBy('key').execute();
  return rows.map((r) => r.key);
}

test('the connection runs in WAL mode with synchronous=FULL, foreign keys on and a busy timeout', async () => {
  const store = await openSqliteStore(dbPath());
  try {
    assert.equal(await pragma(store, 'journal_mode'), 'wal');
    assert.equal(await pragma(store, 'synchronous'), 2); // 2 = FULL (NORMAL would be 1)
    assert.equal(await pragma(store, 'foreign_keys'), 1);
    // What makes a second process wait for the write lock instead of failing at once.
    assert.equal(await pragma(store, 'busy_timeout'), 10_000);
  } finally {
    await store.close();
  }
});

test('opening runs every migration, in name order, and a reopen applies none again', async () => {
  const path = dbPath();
  const names = Object.keys(await migrationProvider(MODULE_MIGRATIONS).getMigrations());
  assert.ok(names.length >= 4, 'the migrations were found');
  assert.deepEqual(names, [...names].sort(), 'migrations are declared in the order they apply');

  const first = await openSqliteStore(path, MODULE_MIGRATIONS);
  const applied = await appliedMigrations(first);
  assert.deepEqual(
    applied.map((m) => m.name),
    names,
  );
  // The last migration's effect is there (a column it adds can be written).
  await (first.db as unknown as EvmDb)
    .insertInto('evm_nonce')
    .values({ identity: 'alice', chain_id: 1, next_nonce: 0, address: '0xabc' })
    .execute();
  await first.db.insertInto('meta').values({ key: 'kept', value: 'across reopen' }).execute();
  await first.close();

  const second = await openSqliteStore(path, MODULE_MIGRATIONS);
  try {
    assert.deepEqual(await appliedMigrations(second), applied, 'no migration row added or rewritten');
    assert.deepEqual(await metaKeys(second), ['kept'], 'no migration re-ran over the existing data');
  } finally {
    await second.close();
  }
});

test('a fresh database file is created with mode 0600', async () => {
  const path = dbPath();
  const store = await openSqliteStore(path);
  try {
    await store.db.insertInto('meta').values({ key: 'k', value: 'v' }).execute();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    // The write-ahead log holds the same data until a checkpoint: it must be no more open.
    assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600);
  } finally {
    await store.close();
  }
});

test('transaction commits what its function wrote, and rolls everything back when it throws', async () => {
  const store = await openSqliteStore(dbPath());
  try {
    const result = await store.transaction(async (tx) => {
      await tx.insertInto('meta').values({ key: 'committed', value: '1' }).execute();
      return 42;
    });
    assert.equal(result, 42);

    const boom = new Error('boom');
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.insertInto('meta').values({ key: 'rolled-back', value: '1' }).execute();
        await tx.updateTable('meta').set({ value: 'changed' }).where('key', '=', 'committed').execute();
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.deepEqual(await metaKeys(store), ['committed']);
    const row = await store.db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'committed')
      .executeTakeFirst();
    assert.equal(row?.value, '1');
    // The connection is usable afterwards: no transaction was left open.
    await store.transaction(async (tx) => {
      await tx.insertInto('meta').values({ key: 'after', value: '1' }).execute();
    });
    assert.deepEqual(await metaKeys(store), ['after', 'committed']);
  } finally {
    await store.close();
  }
});

test('transaction takes the write lock at BEGIN (IMMEDIATE), even before its first write', async () => {
  const path = dbPath();
  const store = await openSqliteStore(path);
  const other = new Database(path);
  other.pragma('busy_timeout = 0');
  try {
    await store.transaction(async (tx) => {
      // Only a read so far: a deferred BEGIN would hold no write lock yet, and the other
      // connection's BEGIN IMMEDIATE would succeed.
      await tx.selectFrom('meta').selectAll().execute();
      assert.throws(
        () => other.exec('BEGIN IMMEDIATE'),
        (e: unknown) => (e as { code?: string }).code === 'SQLITE_BUSY',
      );
    });
    // Released on commit.
    other.exec('BEGIN IMMEDIATE');
    other.exec('ROLLBACK');
    // And released on rollback.
    await assert.rejects(
      store.transaction(async () => {
        throw new Error('abort');
      }),
    );
    other.exec('BEGIN IMMEDIATE');
    other.exec('ROLLBACK');
  } finally {
    other.close();
    await store.close();
  }
});

/** Another process: opens the store, prints "opened", writes one row, prints "wrote", exits. */
function writerProcess(path: string): ChildProcess {
  const code = `
    import { openSqliteStore } from ${JSON.stringify(STORE_MODULE)};
    const store = await openSqliteStore(process.env.WARDEN_TEST_DB);
    process.stdout.write('opened\\n');
    await store.db.insertInto('meta').values({ key: 'child', value: 'x' }).execute();
    process.stdout.write('wrote\\n');
    await store.close();
  `;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, WARDEN_TEST_DB: path },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

test('a write from a second handle waits while a transaction is open, then succeeds after it commits', async () => {
  const path = dbPath();
  const store = await openSqliteStore(path);
  let output = '';
  const child = writerProcess(path);
  child.stdout!.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  try {
    await store.transaction(async (tx) => {
      await tx.insertInto('meta').values({ key: 'parent', value: 'x' }).execute();
      const deadline = Date.now() + 20_000;
      while (!output.includes('opened') && Date.now() < deadline) await sleep(10);
      assert.ok(output.includes('opened'), 'the second handle opened the store (readers are not blocked)');
      // Its write is attempted now; it must still be waiting for our lock a while later.
      await sleep(400);
      assert.equal(output.includes('wrote'), false, 'the write went through while the transaction was open');
    });
    assert.equal(await exited, 0, 'the waiting write succeeded once the transaction committed');
    assert.ok(output.includes('wrote'));
    assert.deepEqual(await metaKeys(store), ['child', 'parent']);
  } finally {
    child.kill('SIGKILL');
    await store.close();
  }
});
