import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { appendAudit } from '../../src/audit/append.ts';
import { memoryAuditKeyring } from '../../src/audit/keyring.ts';
import { readAudit } from '../../src/audit/show.ts';
import { readVerifiedMark } from '../../src/audit/verified-mark.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import { verifyAuditTail } from '../../src/audit/verify-tail.ts';
import { utf8 } from '../../src/core/bytes.ts';
import type { Store } from '../../src/store/store.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { countRows, memoryStore, sampleEntry, tempStore, testClock } from './helpers.ts';

const signingSecret = sha256(utf8('sign:concurrency'));
const detailsKey = sha256(utf8('details:concurrency'));
const keyring = memoryAuditKeyring(signingSecret, detailsKey);

async function seqs(store: Store): Promise<number[]> {
  const rows = await store.db.selectFrom('audit_log').select('seq').orderBy('seq').execute();
  return rows.map((r) => r.seq);
}

test('200 concurrent appends on one store produce a contiguous, valid chain', async () => {
  const t = await memoryStore();
  try {
    const clock = testClock();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        appendAudit(t.store, keyring, { ...sampleEntry(i), details: { i } }, clock, { checkpointEvery: 50 }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.seq).sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      await seqs(t.store),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    const result = await verifyAudit(t.store, keyring.publicKey);
    assert.equal(result.ok, true, result.problem?.message);
    assert.equal(result.records, 200);
    assert.equal(result.lastCheckpointSeq, 200);
    const views = await readAudit(t.store, keyring, { limit: 200 });
    assert.equal(views.filter((v) => v.detailsError !== undefined).length, 0);
    // The checkpoints of a burst share one walk for the verified mark, which keeps up with them.
    const mark = await readVerifiedMark(t.store.db, keyring);
    assert.ok(mark.kind === 'ok' && mark.mark.seq >= 150, JSON.stringify(mark));
    const tail = await verifyAuditTail(t.store, keyring);
    assert.equal(tail.ok, true, tail.problem?.message);
  } finally {
    await t.cleanup();
  }
});

function runWriter(dbPath: string, headFile: string, writer: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./fixtures/append-worker.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reply: { ok: boolean; error?: string; cause?: string } | undefined;
    child.once('message', (m: { ok: boolean; error?: string; cause?: string }) => {
      reply = m;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (reply?.ok && code === 0) resolve();
      else reject(new Error(`${writer} failed (exit ${code}): ${reply?.error} (${reply?.cause})`));
    });
    child.send({
      dbPath,
      writer,
      count,
      signingSecret: [...signingSecret],
      detailsKey: [...detailsKey],
      checkpointEvery: 10,
      headFile,
    });
  });
}

test('two writers with their own Store on the same file (two processes) keep one chain', async () => {
  const t = await tempStore();
  try {
    await Promise.all([
      runWriter(t.dbPath, t.headFile, 'writer_a', 30),
      runWriter(t.dbPath, t.headFile, 'writer_b', 30),
    ]);
    // A third handle, opened after the writers, reads what they wrote.
    const reader = await openSqliteStore(t.dbPath);
    try {
      assert.equal(await countRows(reader, 'audit_log'), 60);
      assert.deepEqual(
        await seqs(reader),
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      // Both wrote checkpoints and the shared anchor file; whichever anchor won, it must verify.
      const result = await verifyAudit(reader, keyring.publicKey, t.headFile);
      assert.equal(result.ok, true, result.problem?.message);
      assert.equal(result.records, 60);
      assert.equal(result.anchor, 'verified');
      assert.ok(result.checkpoints >= 1, JSON.stringify(result));
      const actors = new Set((await readAudit(reader, keyring, { limit: 60 })).map((v) => v.actor));
      assert.deepEqual([...actors].sort(), ['writer_a', 'writer_b']);
      // Each process moved the one verified mark forward over the other's records too.
      const tail = await verifyAuditTail(reader, keyring, t.headFile);
      assert.equal(tail.ok, true, tail.problem?.message);
      assert.ok(tail.verifiedFrom > 0, 'the writers left a verified mark');
    } finally {
      await reader.close();
    }
  } finally {
    await t.cleanup();
  }
});
