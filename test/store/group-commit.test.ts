import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { GroupCommit } from '../../src/gateway/group-commit.ts';
import { LaterStep } from '../../src/store/later-step.ts';
import { openSqliteReader, openSqliteStore, type Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';

async function storeWithTable(): Promise<Store> {
  const store = await openSqliteStore(join(tempDir('group-commit'), 'warden.db'));
  await store.db.schema.createTable('t').addColumn('v', 'integer').execute();
  return store;
}

const values = (store: Store) =>
  store.db
    .selectFrom('t' as never)
    .selectAll()
    .execute() as Promise<{ v: number }[]>;

test('batch: units run in order, each seeing the writes of those before it, in one commit', async () => {
  const store = await storeWithTable();
  try {
    const units = [1, 2, 3].map((v) => (sync: Parameters<Parameters<Store['batch']>[0][number]>[0]) => {
      const before = sync.get<{ n: number }>('SELECT count(*) AS n FROM t')!.n;
      sync.run('INSERT INTO t (v) VALUES (?)', [v]);
      return before;
    });
    const outcomes = await store.batch(units);
    assert.deepEqual(outcomes, [
      { ok: true, value: 0 },
      { ok: true, value: 1 },
      { ok: true, value: 2 },
    ]);
    assert.deepEqual(
      (await values(store)).map((r) => r.v),
      [1, 2, 3],
    );
  } finally {
    await store.close();
  }
});

test('batch: a unit that throws has its own writes undone; the units around it still commit', async () => {
  const store = await storeWithTable();
  try {
    const outcomes = await store.batch([
      (sync) => sync.run('INSERT INTO t (v) VALUES (1)'),
      (sync) => {
        sync.run('INSERT INTO t (v) VALUES (2)');
        throw new Error('refused after writing');
      },
      (sync) => sync.get<{ n: number }>('SELECT count(*) AS n FROM t')!.n,
    ]);
    assert.equal(outcomes[0]!.ok, true);
    assert.equal(outcomes[1]!.ok, false);
    assert.match(String((outcomes[1] as { error: unknown }).error), /refused after writing/);
    assert.deepEqual(outcomes[2], { ok: true, value: 1 }, 'the third unit no longer sees the undone write');
    assert.deepEqual(
      (await values(store)).map((r) => r.v),
      [1],
    );
  } finally {
    await store.close();
  }
});

test('batch: when the transaction cannot commit, every unit is lost and nothing is written', async () => {
  const store = await storeWithTable();
  try {
    // A deferred constraint fails only at COMMIT: the whole transaction is refused.
    await store.db.schema
      .createTable('parent')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .execute();
    await sql`CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)`.execute(
      store.db,
    );
    await assert.rejects(
      store.batch([
        (sync) => sync.run('INSERT INTO t (v) VALUES (1)'),
        (sync) => sync.run('INSERT INTO child (p) VALUES (42)'),
      ]),
      /FOREIGN KEY/,
    );
    assert.deepEqual(await values(store), []);
    // The store is usable afterwards.
    await store.batch([(sync) => sync.run('INSERT INTO t (v) VALUES (7)')]);
    assert.deepEqual(
      (await values(store)).map((r) => r.v),
      [7],
    );
  } finally {
    await store.close();
  }
});

test('group commit: units queued in one turn share one transaction; each settles only after it', async () => {
  const store = await storeWithTable();
  const sizes: number[] = [];
  const counting: Store = {
    ...store,
    batch: (units) => {
      sizes.push(units.length);
      return store.batch(units);
    },
  };
  try {
    const commits = new GroupCommit(counting, 16);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        commits.run((sync) => sync.run('INSERT INTO t (v) VALUES (?)', [i])),
      ),
    );
    assert.deepEqual(results, Array(40).fill(1));
    assert.deepEqual(sizes, [16, 16, 8], 'at most maxUnits per transaction, in arrival order');
    assert.deepEqual(
      (await values(store)).map((r) => r.v),
      Array.from({ length: 40 }, (_, i) => i),
    );
    // A unit that throws rejects its own promise only.
    const [bad, good] = await Promise.allSettled([
      commits.run(() => {
        throw new Error('no');
      }),
      commits.run((sync) => sync.get<{ n: number }>('SELECT count(*) AS n FROM t')!.n),
    ]);
    assert.equal(bad.status, 'rejected');
    assert.deepEqual(good, { status: 'fulfilled', value: 40 });
  } finally {
    await store.close();
  }
});

test('batch: a later step runs after every first step, in the same transaction, with what it waited for', async () => {
  const store = await storeWithTable();
  try {
    const order: string[] = [];
    let release: (v: number) => void = () => undefined;
    const waited = new Promise<number>((resolve) => {
      release = resolve;
    });
    const refused: Promise<number> = Promise.reject(new Error('the thread failed'));
    refused.catch(() => undefined); // handled: the batch reads it later
    const batch = store.batch<string>([
      (sync) => {
        order.push('first 1');
        sync.run('INSERT INTO t (v) VALUES (1)');
        return new LaterStep(
          waited,
          (tx, settled) => {
            order.push('later 1');
            assert.deepEqual(settled, { status: 'fulfilled', value: 10 });
            // Its first step's write is there, and so is the next unit's.
            const n = tx.get<{ n: number }>('SELECT count(*) AS n FROM t')!.n;
            tx.run('INSERT INTO t (v) VALUES (10)');
            return `saw ${n}`;
          },
          () => assert.fail('a finish that did not throw is not abandoned'),
        );
      },
      (sync) => {
        order.push('first 2');
        sync.run('INSERT INTO t (v) VALUES (2)');
        return 'plain';
      },
      () =>
        new LaterStep(
          refused,
          (_tx, settled) => {
            order.push('later 3');
            return settled.status === 'rejected' ? `rejected: ${(settled.reason as Error).message}` : 'no';
          },
          () => assert.fail('not abandoned'),
        ),
    ]);
    // While the batch waits, the transaction is open: nothing is committed yet.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(order, ['first 1', 'first 2']);
    const reader = openSqliteReader(store.path!);
    try {
      const seen = await reader.db
        .selectFrom('t' as never)
        .selectAll()
        .execute();
      assert.deepEqual(seen, [], 'a reader sees nothing of the batch before its commit');
    } finally {
      await reader.close();
    }
    release(10);
    assert.deepEqual(await batch, [
      { ok: true, value: 'saw 2' },
      { ok: true, value: 'plain' },
      { ok: true, value: 'rejected: the thread failed' },
    ]);
    assert.deepEqual(order, ['first 1', 'first 2', 'later 1', 'later 3']);
    assert.deepEqual(
      (await values(store)).map((r) => r.v),
      [1, 2, 10],
    );
  } finally {
    await store.close();
  }
});

test('batch: a later step that throws is undone and abandoned; if abandoning throws too, the whole batch fails', async () => {
  const store = await storeWithTable();
  try {
    const abandoned: string[] = [];
    const outcomes = await store.batch([
      (sync) => sync.run('INSERT INTO t (v) VALUES (1)'),
      (sync) => {
        sync.run('INSERT INTO t (v) VALUES (2)');
        return new LaterStep(
          Promise.resolve(0),
          (tx) => {
            tx.run('INSERT INTO t (v) VALUES (20)');
            throw new Error('cannot record the result');
          },
          (tx, err) => {
            abandoned.push((err as Error).message);
            // What the first step wrote is still there; what finish wrote is not.
            assert.deepEqual(
              tx.all<{ v: number }>('SELECT v FROM t ORDER BY v').map((r) => r.v),
              [1, 2],
            );
            tx.run('UPDATE t SET v = -2 WHERE v = 2');
          },
        );
      },
    ]);
    assert.deepEqual(outcomes[0], { ok: true, value: 1 });
    assert.equal(outcomes[1]!.ok, false, 'the unit rejects with the error of its finish');
    assert.match(String((outcomes[1] as { error: unknown }).error), /cannot record the result/);
    assert.deepEqual(abandoned, ['cannot record the result']);
    assert.deepEqual(
      (await values(store)).map((r) => r.v),
      [1, -2],
    );

    await assert.rejects(
      store.batch([
        (sync) => sync.run('INSERT INTO t (v) VALUES (3)'),
        (sync) => {
          sync.run('INSERT INTO t (v) VALUES (4)');
          return new LaterStep(
            Promise.resolve(0),
            () => {
              throw new Error('cannot record the result');
            },
            () => {
              throw new Error('cannot abandon it either');
            },
          );
        },
      ]),
      /cannot abandon it either/,
    );
    assert.deepEqual(
      (await values(store)).map((r) => r.v),
      [1, -2],
      'nothing of the failed batch was written',
    );
  } finally {
    await store.close();
  }
});
