import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytesToHex } from '@noble/hashes/utils.js';
import { readAnchorFile, writeAnchorFile } from '../../src/audit/anchor.ts';
import { appendAudit } from '../../src/audit/append.ts';
import { checkpointMessage, writeCheckpoint } from '../../src/audit/checkpoint.ts';
import { auditKeyId, verifyCheckpointSignature } from '../../src/audit/keyring.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import { isWardenError } from '../../src/core/errors.ts';
import {
  appendMany,
  countRows,
  memoryStore,
  sampleEntry,
  tempStore,
  testClock,
  testKeyring,
  withStore,
} from './helpers.ts';

const keyring = testKeyring();

async function checkpointSeqs(t: Awaited<ReturnType<typeof tempStore>>): Promise<number[]> {
  const rows = await t.store.db.selectFrom('audit_checkpoint').select('seq').orderBy('id').execute();
  return rows.map((r) => r.seq);
}

test('a checkpoint is written every N records when the keyring is present, and at close', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, keyring, 25, { checkpointEvery: 10, headFile: t.headFile });
    assert.deepEqual(await checkpointSeqs(t), [10, 20]);

    const closing = await writeCheckpoint(t.store, keyring, testClock(), t.headFile);
    assert.equal(closing?.created, true);
    assert.equal(closing?.checkpoint.seq, 25);
    assert.deepEqual(await checkpointSeqs(t), [10, 20, 25]);

    // Already covered: nothing new is signed.
    const again = await writeCheckpoint(t.store, keyring, testClock(), t.headFile);
    assert.equal(again?.created, false);
    assert.deepEqual(await checkpointSeqs(t), [10, 20, 25]);

    const result = await verifyAudit(t.store, keyring.publicKey, t.headFile);
    assert.equal(result.ok, true);
    assert.equal(result.checkpoints, 3);
    assert.equal(result.lastCheckpointSeq, 25);
    assert.equal(result.anchor, 'verified');
  });
});

test('default policy is one checkpoint per 100 records', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, null, 99);
    const r100 = await appendAudit(t.store, keyring, sampleEntry(100), testClock());
    assert.equal(r100.checkpoint?.seq, 100);
    const r101 = await appendAudit(t.store, keyring, sampleEntry(101), testClock());
    assert.equal(r101.checkpoint, null);
    assert.equal(r101.checkpointDue, false);
  });
});

test('while sealed the checkpoint stays due and is reported; it is written once a keyring is back', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, null, 4, { checkpointEvery: 3 });
    const r = await appendAudit(t.store, null, sampleEntry(5), testClock(), { checkpointEvery: 3 });
    assert.equal(r.checkpointDue, true);
    assert.equal(r.checkpoint, null);
    assert.equal(await countRows(t.store, 'audit_checkpoint'), 0);

    const unsealed = await appendAudit(t.store, keyring, sampleEntry(6), testClock(), { checkpointEvery: 3 });
    assert.equal(unsealed.checkpoint?.seq, 6);
    assert.equal(unsealed.checkpointDue, false);
  });
});

test('an empty log has nothing to checkpoint', async () => {
  await withStore(tempStore, async (t) => {
    assert.equal(await writeCheckpoint(t.store, keyring, testClock(), t.headFile), null);
    assert.equal((await readAnchorFile(t.headFile)).kind, 'missing');
  });
});

test('checkpoints are Ed25519 signatures over the canonical message, named by key id', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, keyring, 3);
    const written = await writeCheckpoint(t.store, keyring, testClock());
    assert.ok(written);
    const { checkpoint } = written;
    assert.equal(checkpoint.keyId, auditKeyId(keyring.publicKey));
    assert.equal(checkpoint.keyId.length, 16);
    const message = new TextDecoder().decode(checkpointMessage(checkpoint));
    assert.equal(
      message,
      `{"keyId":"${checkpoint.keyId}","recordHash":"${bytesToHex(checkpoint.recordHash)}","seq":3,"time":"${checkpoint.time}","v":1}`,
    );
    assert.equal(
      verifyCheckpointSignature(keyring.publicKey, checkpointMessage(checkpoint), checkpoint.signature),
      true,
    );
    assert.equal(
      verifyCheckpointSignature(
        testKeyring('other').publicKey,
        checkpointMessage(checkpoint),
        checkpoint.signature,
      ),
      false,
    );
    assert.equal(
      verifyCheckpointSignature(keyring.publicKey, checkpointMessage(checkpoint), new Uint8Array(3)),
      false,
    );
  });
});

test('the anchor file is written atomically with mode 0600 and only moves forward', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, keyring, 5, { checkpointEvery: 2, headFile: t.headFile });
    const st = statSync(t.headFile);
    assert.equal(st.mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(t.dir).filter((f) => f.endsWith('.tmp')),
      [],
      'no temp file is left behind',
    );
    const anchor = JSON.parse(readFileSync(t.headFile, 'utf8'));
    assert.deepEqual(Object.keys(anchor).sort(), ['keyId', 'recordHash', 'seq', 'signature', 'time', 'v']);
    assert.equal(anchor.seq, 4);

    const read = await readAnchorFile(t.headFile);
    assert.equal(read.kind, 'ok');
    if (read.kind !== 'ok') return;
    // An older checkpoint never replaces a newer anchor: that would erase evidence of truncation.
    const older = { ...read.checkpoint, seq: 2 };
    assert.equal(await writeAnchorFile(t.headFile, older), false);
    assert.equal(JSON.parse(readFileSync(t.headFile, 'utf8')).seq, 4);
  });
});

test('a missing anchor file with checkpoints present is a warning, not a failure', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, keyring, 3, { checkpointEvery: 2 });
    const result = await verifyAudit(t.store, keyring.publicKey, t.headFile);
    assert.equal(result.ok, true);
    assert.equal(result.anchor, 'missing');
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['AUDIT_ANCHOR_MISSING'],
    );
  });
});

test('writeCheckpoint refreshes a lagging anchor file even when nothing new is signed', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, keyring, 4, { checkpointEvery: 2 });
    // Crash between commit and anchor write: the checkpoint exists, the anchor does not.
    const r = await writeCheckpoint(t.store, keyring, testClock(), t.headFile);
    assert.equal(r?.created, false);
    const read = await readAnchorFile(t.headFile);
    assert.equal(read.kind === 'ok' && read.checkpoint.seq, 4);
  });
});

test('a checkpoint that cannot be anchored is reported, while the committed record stands', async () => {
  await withStore(memoryStore, async (m) => {
    const keyring = testKeyring();
    const headFile = join('/nonexistent-warden-dir', 'audit-head.json');
    const r = await appendAudit(m.store, keyring, sampleEntry(1), testClock(), {
      checkpointEvery: 1,
      headFile,
    });
    assert.equal(r.seq, 1);
    assert.ok(isWardenError(r.checkpointError, 'AUDIT_APPEND_FAILED'));
    assert.equal(await countRows(m.store, 'audit_log'), 1);
    assert.equal((await verifyAudit(m.store, keyring.publicKey)).ok, true);
  });
});
