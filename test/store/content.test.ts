import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { contentHash, getContents, putContent } from '../../src/store/content.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';

test('a text put twice in one batch is written once; undone with its unit, the next unit writes it again', async () => {
  const store = await openSqliteStore(join(tempDir('content'), 'warden.db'));
  try {
    const text = '{"assessment":"the same in every request of a kind"}';
    const writes: number[] = [];
    const counted = (sync: Parameters<typeof putContent>[0]) => ({
      ...sync,
      memo: sync.memo,
      run: (sql: string, params?: readonly unknown[]) => {
        const n = sync.run(sql, params);
        if (sql.startsWith('INSERT INTO content')) writes.push(n);
        return n;
      },
    });
    const outcomes = await store.batch([
      (sync) => putContent(counted(sync), text),
      (sync) => putContent(counted(sync), text),
    ]);
    assert.deepEqual(outcomes, [
      { ok: true, value: contentHash(text) },
      { ok: true, value: contentHash(text) },
    ]);
    assert.deepEqual(writes, [1], 'the second unit did not write it again');

    writes.length = 0;
    const other = '{"assessment":"another kind"}';
    await store.batch([
      (sync) => {
        putContent(counted(sync), other);
        throw new Error('this unit is undone, its text with it');
      },
      (sync) => putContent(counted(sync), other),
    ]);
    assert.deepEqual(writes, [1, 1], 'after the rollback the text is written again');
    const stored = await getContents(store.db, [contentHash(other), contentHash(text)]);
    assert.equal(stored.get(contentHash(other)), other);
    assert.equal(stored.get(contentHash(text)), text);
  } finally {
    await store.close();
  }
});
