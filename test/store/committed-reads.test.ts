/**
 * The store's committed reads (src/store/committed-reads.ts): the hot path's reads of its token
 * and policy on a read-only connection of their own. They see what is committed and nothing of a
 * transaction still open, and they answer while that transaction holds the writer's connection
 * across its awaits, where a read through Kysely would queue behind it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { committedReadsOf } from '../../src/store/committed-reads.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';

const META = 'SELECT value FROM meta WHERE key = ?';

test("a file store's own handle has committed reads; a transaction's handle and a store in memory have none", async () => {
  const store = await openSqliteStore(join(tempDir('reads'), 'warden.db'));
  try {
    assert.ok(committedReadsOf(store.db));
    await store.transaction(async (tx) => assert.equal(committedReadsOf(tx), null));
  } finally {
    await store.close();
  }
  const memory = await openSqliteStore(':memory:');
  assert.equal(committedReadsOf(memory.db), null);
  await memory.close();
});

test('an open transaction is not seen and not waited for; its commit is seen at once; closed with the store', async () => {
  const store = await openSqliteStore(join(tempDir('reads'), 'warden.db'));
  const reads = committedReadsOf(store.db)!;
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let written = () => {};
  const wrote = new Promise<void>((resolve) => {
    written = resolve;
  });
  const transaction = store.transaction(async (tx) => {
    await tx.insertInto('meta').values({ key: 'probe', value: 'uncommitted' }).execute();
    written();
    await held; // the writer's connection stays taken across this await
  });
  await wrote;
  assert.equal(reads.get(META, ['probe']), undefined, 'nothing of the open transaction');
  // Through Kysely the same read queues for the writer's connection until the transaction ends.
  let kyselyAnswered = false;
  const viaKysely = store.db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'probe')
    .executeTakeFirst()
    .then((row) => {
      kyselyAnswered = true;
      return row;
    });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(kyselyAnswered, false);
  release();
  await transaction;
  assert.deepEqual(reads.get(META, ['probe']), { value: 'uncommitted' }, 'committed: seen by the next read');
  assert.deepEqual(await viaKysely, { value: 'uncommitted' });
  await store.close();
  assert.throws(() => reads.get(META, ['probe']), /the store is closed/);
});
