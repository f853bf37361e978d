import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeCheckpoint } from '../../src/audit/checkpoint.ts';
import type { AuditKeyring } from '../../src/audit/keyring.ts';
import { TailVerifier } from '../../src/audit/tail-verifier.ts';
import { readVerifiedMark } from '../../src/audit/verified-mark.ts';
import { earnedMark } from '../../src/audit/verify-tail.ts';
import type { TempStore } from './helpers.ts';
import { appendMany, exec, rechain, tamperableCopies, testClock, testKeyring } from './helpers.ts';

/**
 * The walk for the verified mark on a worker thread (audit/tail-verifier.ts), as a running server
 * does it at every checkpoint: the same mark as the walk on the caller's thread, the same refusals,
 * and the audit key never leaves the caller's thread.
 */

const keyring = testKeyring();
/** Checkpoints every 10 records: the mark stands at 20, records 21..25 come after it. */
const N = 25;
const MARK = 20;

const copy = tamperableCopies((t) => appendMany(t.store, keyring, N, { checkpointEvery: 10 }));

/** A copy of the log (triggers dropped, so a test can tamper) and a verifier of its file. */
function withCopy(fn: (t: TempStore, tails: TailVerifier) => Promise<void>) {
  return copy(async (t) => {
    const tails = new TailVerifier(t.dbPath);
    try {
      await fn(t, tails);
    } finally {
      await tails.close();
    }
  });
}

const markSeq = async (t: TempStore) => {
  const read = await readVerifiedMark(t.store.db, keyring);
  return read.kind === 'ok' ? read.mark.seq : undefined;
};

test('the worker earns exactly the mark the walk on this thread earns, and no further than the limit', async () => {
  await withCopy(async (t, tails) => {
    assert.equal(await markSeq(t), MARK);
    const here = await earnedMark(t.store.db, keyring);
    const there = await tails.earnedMark(t.store.db, keyring);
    assert.equal(there?.seq, N);
    assert.deepEqual(there, here);
    assert.equal(await tails.earnedMark(t.store.db, keyring, N - MARK - 1), null, 'too far behind');
    assert.equal((await tails.earnedMark(t.store.db, keyring, N - MARK))?.seq, N);
    assert.equal(await markSeq(t), MARK, 'earning is not recording');
    assert.ok(await writeCheckpoint(t.store, keyring, testClock(), t.headFile, tails));
    assert.equal(await markSeq(t), N, 'the checkpoint records the mark the worker earned');
  });
});

test('an edited record or one forged with a fresh chain earns no mark, and the checkpoint leaves the mark', async () => {
  await withCopy(async (t, tails) => {
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 23`);
    assert.equal(await earnedMark(t.store.db, keyring), null);
    assert.equal(await tails.earnedMark(t.store.db, keyring), null);
  });
  await withCopy(async (t, tails) => {
    // The chain is whole again: only the details' authentication, asked of this thread, finds it.
    await exec(t.store, `UPDATE audit_log SET actor = 'token_other' WHERE seq = 22`);
    await rechain(t.store, 22);
    assert.equal(await tails.earnedMark(t.store.db, keyring), null);
    assert.ok(await writeCheckpoint(t.store, keyring, testClock(), t.headFile, tails));
    assert.equal(await markSeq(t), MARK);
  });
});

test("blobs are opened on the keyring's thread: the worker asks for the records after the mark only", async () => {
  await withCopy(async (t, tails) => {
    const opened: string[] = [];
    const counting: AuditKeyring = {
      ...keyring,
      decryptMany: async (items) => {
        for (const i of items) {
          const text = new TextDecoder().decode(i.aad);
          opened.push(text.startsWith('{') ? String(JSON.parse(text).seq) : 'mark');
        }
        return keyring.decryptMany(items);
      },
    };
    assert.equal((await tails.earnedMark(t.store.db, counting))?.seq, N);
    // The mark twice: read here before the walk (where it must start), then by the worker.
    assert.deepEqual(opened, ['mark', 'mark', '21', '22', '23', '24', '25']);
  });
});

test('a key that cannot be used, or a worker stopped mid-walk, earns no mark; the next walk starts a new worker', async () => {
  await withCopy(async (t, tails) => {
    const sealed: AuditKeyring = {
      ...keyring,
      decryptMany: async () => {
        throw new Error('the vault is sealed');
      },
    };
    assert.equal(await tails.earnedMark(t.store.db, sealed), null);
    assert.equal((await tails.earnedMark(t.store.db, keyring))?.seq, N, 'the same worker walks again');
    // Stopped while this thread holds a page of the walk: that walk comes to no mark.
    let asked!: () => void;
    const pageAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const slow: AuditKeyring = {
      ...keyring,
      decryptMany: async (items) => {
        asked();
        await new Promise((resolve) => setTimeout(resolve, 200));
        return keyring.decryptMany(items);
      },
    };
    const underWay = tails.earnedMark(t.store.db, slow);
    await pageAsked;
    await tails.close();
    assert.equal(await underWay, null);
    assert.equal(await tails.earnedMark(t.store.db, keyring), null, 'closed for good');
    assert.equal(await markSeq(t), MARK);
    const again = new TailVerifier(t.dbPath);
    assert.equal((await again.earnedMark(t.store.db, keyring))?.seq, N);
    await again.close();
  });
});

test('a mark the worker reports is refused unless this thread opened every record up to it', async () => {
  await withCopy(async (t) => {
    const logged: string[] = [];
    // A faulty worker: it answers at once with the head as the mark, having opened nothing.
    const lying = new TailVerifier(t.dbPath, {
      entry: new URL('./fixtures/lying-tail-worker.ts', import.meta.url),
      log: (message) => logged.push(message),
    });
    try {
      assert.equal(await lying.earnedMark(t.store.db, keyring), null);
      assert.match(logged.join('\n'), /record 21 was not authenticated/);
    } finally {
      await lying.close();
    }
  });
});

test('a database file that is not there earns no mark (and throws nothing)', async () => {
  await withCopy(async (t) => {
    const logged: string[] = [];
    const tails = new TailVerifier(join(t.dir, 'nonexistent.db'), { log: (m) => logged.push(m) });
    try {
      assert.equal(await tails.earnedMark(t.store.db, keyring), null);
      assert.match(logged.join('\n'), /earned no mark: cannot open the database/);
    } finally {
      await tails.close();
    }
  });
});

test('an idle worker never keeps a process alive: one whose walks have ended exits by itself', async () => {
  await withCopy(async (t) => {
    const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const code = `
      import { TailVerifier } from ${module('../../src/audit/tail-verifier.ts')};
      import { openSqliteStore } from ${module('../../src/store/store.ts')};
      import { testKeyring } from ${module('./helpers.ts')};
      const store = await openSqliteStore(${JSON.stringify(t.dbPath)});
      const mark = await new TailVerifier(${JSON.stringify(t.dbPath)}).earnedMark(store.db, testKeyring());
      await store.close();
      console.log(mark?.seq);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      timeout: 30_000,
      encoding: 'utf8',
    });
    assert.equal(child.signal, null, 'the process exited by itself');
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), String(N), 'the walk it awaited kept it alive until its end');
  });
});
