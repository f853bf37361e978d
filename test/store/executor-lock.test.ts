import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomId } from '../../src/core/ids.ts';
import { acquireExecutorLock, executorIds, whenExecutorGone } from '../../src/store/executor-lock.ts';
import { executorProcess, kill9 } from '../helpers/executor-process.ts';
import { tempDir } from '../helpers/home.ts';

/** Whether `whenExecutorGone` ran its function for `id`. */
async function takenOver(dir: string, id: string): Promise<boolean> {
  let ran = false;
  const probed = await whenExecutorGone(dir, id, async () => {
    ran = true;
  });
  assert.equal(probed.ran, ran);
  return ran;
}

test('a live executor in another process is never taken over; killed (kill -9), it is at once, and only once', async () => {
  const dir = join(tempDir('executors'), 'executors');
  const id = randomId('exe');
  const child = await executorProcess(dir, id);
  try {
    assert.deepEqual(executorIds(dir), [id]);
    assert.equal(statSync(join(dir, `${id}.lock`)).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(await takenOver(dir, id), false, 'alive: its lock is held');
  } finally {
    await kill9(child);
  }
  assert.equal(await takenOver(dir, id), true, 'gone: the kernel released its lock');
  assert.equal(existsSync(join(dir, `${id}.lock`)), false, 'its file goes once its rows are taken over');
  assert.equal(await takenOver(dir, id), false, 'a second start finds nothing left to take');
});

test('an executor of this process is alive to every other connection of it; released, its file is gone', async () => {
  const dir = join(tempDir('executors'), 'executors');
  const lock = acquireExecutorLock(dir, randomId('exe'));
  assert.equal(await takenOver(dir, lock.id), false);
  lock.release();
  assert.deepEqual(executorIds(dir), []);
  assert.equal(await takenOver(dir, lock.id), false, 'no file proves nothing: left alone');
});

test('a function that fails keeps the file (its rows were not taken over), and odd names are never probed', async () => {
  const dir = join(tempDir('executors'), 'executors');
  const id = randomId('exe');
  acquireExecutorLock(dir, id).release();
  writeFileSync(join(dir, `${id}.lock`), '', { mode: 0o600 });
  await assert.rejects(
    whenExecutorGone(dir, id, async () => {
      throw new Error('the takeover failed');
    }),
    /the takeover failed/,
  );
  assert.ok(existsSync(join(dir, `${id}.lock`)));
  assert.equal(await takenOver(dir, id), true);
  writeFileSync(join(dir, '../x.lock'), '');
  assert.equal(await takenOver(dir, '../x'), false);
  assert.throws(() => acquireExecutorLock(dir, 'not-an-id'), /not an executor id/);
  // An id is never taken twice: a file of that name already there is refused, not shared.
  writeFileSync(join(dir, `${id}.lock`), '', { mode: 0o600 });
  assert.throws(() => acquireExecutorLock(dir, id), /cannot create an executor lock/);
});
