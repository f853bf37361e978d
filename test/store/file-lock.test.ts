import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isWardenError } from '../../src/core/errors.ts';
import { withFileLock } from '../../src/store/file-lock.ts';
import { tempDir } from '../helpers/home.ts';

const WORKER = fileURLToPath(new URL('./fixtures/lock-worker.ts', import.meta.url));

function worker(...args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A child process that holds the lock until it is killed. */
async function holder(path: string): Promise<ChildProcess> {
  const child = worker('hold', path);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  return child;
}

test('while another process holds the lock: VAULT_LOCKED after the timeout, and the work never runs', async () => {
  const path = join(tempDir('lock'), 'keystore.lock');
  const child = await holder(path);
  try {
    let ran = false;
    await assert.rejects(
      withFileLock(
        path,
        async () => {
          ran = true;
        },
        300,
      ),
      (e) => isWardenError(e, 'VAULT_LOCKED'),
    );
    assert.equal(ran, false);
  } finally {
    child.kill('SIGKILL');
    await exited(child);
  }
});

test('a holder that is killed frees the lock at once: nothing stale to wait out or take over', async () => {
  const path = join(tempDir('lock'), 'keystore.lock');
  const child = await holder(path);
  let killedAt = 0;
  setTimeout(() => {
    killedAt = Date.now();
    child.kill('SIGKILL');
  }, 300);
  const acquiredAt = await withFileLock(path, async () => Date.now(), 10_000);
  assert.ok(killedAt > 0 && acquiredAt >= killedAt, 'not before the holder died');
  assert.ok(acquiredAt - killedAt < 2_000, `within moments of its death (${acquiredAt - killedAt} ms)`);
  assert.equal(statSync(path).mode & 0o777, 0o600, 'the lock file is private');
});

test('four processes incrementing one counter under the lock lose no update', async () => {
  const dir = tempDir('lock');
  const path = join(dir, 'keystore.lock');
  const counter = join(dir, 'counter');
  writeFileSync(counter, '0');
  const children = Array.from({ length: 4 }, () => worker('increment', path, counter, '25'));
  const codes = await Promise.all(children.map(exited));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  assert.equal(readFileSync(counter, 'utf8'), '100');
});

test('callers in one process are serialized too, and a failing one releases the lock', async () => {
  const path = join(tempDir('lock'), 'keystore.lock');
  let inside = 0;
  let most = 0;
  const work = async () => {
    inside++;
    most = Math.max(most, inside);
    await new Promise((r) => setTimeout(r, 5));
    inside--;
  };
  await assert.rejects(
    withFileLock(path, async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  await Promise.all(Array.from({ length: 10 }, () => withFileLock(path, work)));
  assert.equal(most, 1);
});
