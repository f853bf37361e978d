import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { writeCheckpoint } from '../../src/audit/checkpoint.ts';
import type { AuditKeyring } from '../../src/audit/keyring.ts';
import { asBytes } from '../../src/audit/rows.ts';
import { readVerifiedMark, VERIFIED_MARK_KEY, writeVerifiedMark } from '../../src/audit/verified-mark.ts';
import type { VerifyResult } from '../../src/audit/verify.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import { earnedMark, verifyAuditTail } from '../../src/audit/verify-tail.ts';
import { utf8 } from '../../src/core/bytes.ts';
import type { Store } from '../../src/store/store.ts';
import type { TempStore } from './helpers.ts';
import { appendMany, exec, rechain, tamperableCopies, testClock, testKeyring } from './helpers.ts';

/**
 * The start-up check (verify-tail.ts) against an attacker who can write the database file but has
 * no key: what it must find although it reads only the records after the verified mark, and the
 * limit of what it guarantees, past which only the full verification finds tampering.
 */

const keyring = testKeyring();
const EVERY = 10;
/** Checkpoints at 10 and 20 (each moves the mark, checkpoint.ts); records 21..25 come after both. */
const N = 25;
const MARK = 20;

/** The genuine mark as it stood at seq 10: an old, validly authenticated mark to replay. */
let markAt10 = '';

const victim = tamperableCopies(async (t) => {
  await appendMany(t.store, keyring, 10, { checkpointEvery: EVERY, headFile: t.headFile });
  markAt10 = await markText(t.store);
  const clock = testClock();
  clock.advance(10_000);
  await appendMany(t.store, keyring, N - 10, { checkpointEvery: EVERY, headFile: t.headFile }, clock);
});

const tail = (t: TempStore, k: AuditKeyring = keyring) => verifyAuditTail(t.store, k, t.headFile);
const full = (t: TempStore) =>
  verifyAudit(t.store, keyring.publicKey, t.headFile, { keyring, requireDetails: true });

function expectProblem(result: VerifyResult, code: string, firstBadSeq: number | undefined) {
  assert.equal(result.ok, false, 'tampering must be detected');
  assert.equal(result.problem?.code, code, result.problem?.message);
  assert.equal(result.firstBadSeq, firstBadSeq, result.problem?.message);
}

async function markText(store: Store): Promise<string> {
  const row = await store.db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', VERIFIED_MARK_KEY)
    .executeTakeFirst();
  return row?.value ?? '';
}

async function setMarkText(store: Store, value: string): Promise<void> {
  await store.db
    .insertInto('meta')
    .values({ key: VERIFIED_MARK_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

async function hashAt(store: Store, seq: number): Promise<Uint8Array> {
  const row = await store.db
    .selectFrom('audit_log')
    .select('record_hash')
    .where('seq', '=', seq)
    .executeTakeFirstOrThrow();
  return asBytes(row.record_hash);
}

async function markSeq(store: Store): Promise<number | undefined> {
  const read = await readVerifiedMark(store.db, keyring);
  return read.kind === 'ok' ? read.mark.seq : undefined;
}

test('the checkpoint writer keeps the mark at the newest checkpoint whose records it verified', async () => {
  await victim(async (t) => {
    assert.equal(await markSeq(t.store), MARK);
  });
});

test('an untouched log: only the records after the mark are walked, then the mark moves to the head', async () => {
  await victim(async (t) => {
    const first = await tail(t);
    assert.equal(first.ok, true, first.problem?.message);
    assert.equal(first.verifiedFrom, MARK);
    assert.equal(first.records, N);
    assert.equal(first.authenticated, N - MARK);
    assert.equal(first.anchor, 'verified');
    assert.equal(first.lastCheckpointSeq, MARK);
    assert.equal(await markSeq(t.store), N);
    const second = await tail(t);
    assert.equal(second.ok, true);
    assert.equal(second.verifiedFrom, N);
    assert.equal(second.authenticated, 0);
  });
});

test('the start-up check opens the details of the records after the mark, and of no other', async () => {
  await victim(async (t) => {
    const opened: number[] = [];
    const counting: AuditKeyring = {
      ...keyring,
      decrypt: async (blob, aad) => {
        note(aad);
        return keyring.decrypt(blob, aad);
      },
      decryptMany: async (items) => {
        for (const i of items) note(i.aad);
        return keyring.decryptMany(items);
      },
    };
    // A record's associated data is its canonical JSON (with its seq); the mark's starts otherwise.
    function note(aad: Uint8Array) {
      const text = new TextDecoder().decode(aad);
      if (text.startsWith('{')) opened.push(JSON.parse(text).seq);
    }
    assert.equal((await tail(t, counting)).ok, true);
    assert.deepEqual(opened, [21, 22, 23, 24, 25]);
  });
});

test('an edited record after the mark is found', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 23`);
    expectProblem(await tail(t), 'AUDIT_RECORD_MODIFIED', 23);
  });
});

test('a record after the mark rewritten with a fresh chain fails the audit key', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET actor = 'token_other' WHERE seq = 22`);
    await rechain(t.store, 22);
    expectProblem(await tail(t), 'AUDIT_RECORD_FORGED', 22);
  });
});

test('the tail deleted with its checkpoints is found, by the mark and, without it, by the anchor file', async () => {
  const cut = async (t: TempStore) => {
    await exec(t.store, 'DELETE FROM audit_log WHERE seq >= 19');
    await exec(t.store, 'DELETE FROM audit_checkpoint WHERE seq >= 19');
  };
  await victim(async (t) => {
    await cut(t);
    expectProblem(await tail(t), 'AUDIT_TRUNCATED', 19);
  });
  await victim(async (t) => {
    await cut(t);
    await exec(t.store, `DELETE FROM meta WHERE key = '${VERIFIED_MARK_KEY}'`);
    const result = await tail(t);
    expectProblem(result, 'AUDIT_TRUNCATED', 19);
    assert.equal(result.anchor, 'failed');
    assert.equal(result.verifiedFrom, 0, 'without a mark it walks from genesis');
  });
});

test('once the mark has moved past the last checkpoint, deleting the records after it is found too', async () => {
  await victim(async (t) => {
    assert.equal((await tail(t)).ok, true);
    await exec(t.store, 'DELETE FROM audit_log WHERE seq >= 24');
    expectProblem(await tail(t), 'AUDIT_TRUNCATED', 24);
    // The full verification holds the mark to the same: no checkpoint covers 21..25, the mark does.
    expectProblem(await full(t), 'AUDIT_TRUNCATED', 24);
  });
});

/** A checkpoint row naming a real record, with a signature nobody made. */
function forgeCheckpoint(store: Store, seq: number) {
  return exec(
    store,
    `INSERT INTO audit_checkpoint (seq, record_hash, time, key_id, signature)
     SELECT seq, record_hash, '2025-01-02T00:00:00.000Z', '${keyring.keyId}', randomblob(64) FROM audit_log WHERE seq = ${seq}`,
  );
}

test('a forged checkpoint is found: after the mark, before it, or over the newest one', async () => {
  await victim(async (t) => {
    await forgeCheckpoint(t.store, 25);
    expectProblem(await tail(t), 'AUDIT_CHECKPOINT_INVALID', 25);
  });
  await victim(async (t) => {
    await forgeCheckpoint(t.store, 5);
    expectProblem(await tail(t), 'AUDIT_CHECKPOINT_INVALID', 5);
  });
  await victim(async (t) => {
    await exec(t.store, 'UPDATE audit_checkpoint SET signature = randomblob(64) WHERE seq = 20');
    expectProblem(await tail(t), 'AUDIT_CHECKPOINT_INVALID', 20);
  });
});

test('the newest checkpoint removed from the database is found, by the mark or the anchor file', async () => {
  await victim(async (t) => {
    // The mark remembers which checkpoints it judged (ids only grow): no anchor file needed.
    await exec(t.store, 'DELETE FROM audit_checkpoint WHERE seq = 20');
    rmSync(t.headFile);
    const result = await tail(t);
    expectProblem(result, 'AUDIT_CHECKPOINT_INVALID', undefined);
    assert.match(result.problem?.message ?? '', /checkpoints were deleted/);
  });
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_checkpoint WHERE seq = 20');
    await exec(t.store, `DELETE FROM meta WHERE key = '${VERIFIED_MARK_KEY}'`);
    const result = await tail(t);
    expectProblem(result, 'AUDIT_CHECKPOINT_INVALID', 20);
    assert.equal(result.anchor, 'failed');
  });
});

test('a fake verified mark is refused and hides nothing', async () => {
  const editAt23 = (t: TempStore) => exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 23`);
  // Made up: the mark at the head, with a tag from no key.
  await victim(async (t) => {
    await editAt23(t);
    const head = bytesToHex(await hashAt(t.store, N));
    const tag = bytesToHex(sha256(utf8('no key')).subarray(0, 20)).padEnd(80, '0');
    await setMarkText(t.store, JSON.stringify({ checkpointId: 2, recordHash: head, seq: N, tag, v: 1 }));
    expectProblem(await tail(t), 'AUDIT_MARK_INVALID', undefined);
  });
  // The genuine mark moved on to the head: its tag no longer fits.
  await victim(async (t) => {
    await editAt23(t);
    const real = JSON.parse(await markText(t.store));
    const moved = { ...real, seq: N, recordHash: bytesToHex(await hashAt(t.store, N)) };
    await setMarkText(t.store, JSON.stringify(moved));
    expectProblem(await tail(t), 'AUDIT_MARK_INVALID', undefined);
  });
  // Authenticated, but under another vault's key.
  await victim(async (t) => {
    await editAt23(t);
    await exec(t.store, `DELETE FROM meta WHERE key = '${VERIFIED_MARK_KEY}'`);
    const other = testKeyring('other');
    assert.equal(
      await writeVerifiedMark(t.store, other, {
        seq: N,
        recordHash: await hashAt(t.store, N),
        checkpointId: 2,
      }),
      true,
    );
    expectProblem(await tail(t), 'AUDIT_MARK_INVALID', undefined);
  });
  // An older genuine mark replayed: valid, so the check walks from there, and finds the edit.
  await victim(async (t) => {
    await editAt23(t);
    await setMarkText(t.store, markAt10);
    const result = await tail(t);
    expectProblem(result, 'AUDIT_RECORD_MODIFIED', 23);
    assert.equal(result.verifiedFrom, 10);
  });
  // No mark at all: the check walks from genesis.
  await victim(async (t) => {
    await editAt23(t);
    await exec(t.store, `DELETE FROM meta WHERE key = '${VERIFIED_MARK_KEY}'`);
    const result = await tail(t);
    expectProblem(result, 'AUDIT_RECORD_MODIFIED', 23);
    assert.equal(result.verifiedFrom, 0);
  });
});

test('before the mark: an edit of the marked record, a rewrite through it and a deletion are found cheaply', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = ${MARK}`);
    expectProblem(await tail(t), 'AUDIT_RECORD_MODIFIED', MARK);
  });
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 5`);
    await rechain(t.store, 5);
    const result = await tail(t);
    expectProblem(result, 'AUDIT_RECORD_MODIFIED', undefined);
    assert.match(result.problem?.message ?? '', /record 20 is not the one the verified mark names/);
  });
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_log WHERE seq = 7');
    expectProblem(await tail(t), 'AUDIT_RECORD_MISSING', undefined);
  });
});

test('an edit before the mark that leaves the marked record alone is beyond the start-up check; the full verification finds it', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 7`);
    assert.equal((await tail(t)).ok, true, 'records before the mark are not read again at start-up');
    expectProblem(await full(t), 'AUDIT_RECORD_MODIFIED', 7);
  });
  await victim(async (t) => {
    // The details blob of record 12 replaced: hashes recomputed, so only the audit key can tell.
    await exec(t.store, 'UPDATE audit_log SET details = randomblob(80) WHERE seq = 12');
    await rechain(t.store, 12);
    // The rewrite ran through the marked record: the start-up check sees that much, not where.
    expectProblem(await tail(t), 'AUDIT_RECORD_MODIFIED', undefined);
    expectProblem(await full(t), 'AUDIT_RECORD_FORGED', 12);
  });
});

test('the full verification replaces an invalid mark, says so, and the start-up check passes again', async () => {
  await victim(async (t) => {
    const real = JSON.parse(await markText(t.store));
    await setMarkText(t.store, JSON.stringify({ ...real, seq: MARK + 1 }));
    expectProblem(await tail(t), 'AUDIT_MARK_INVALID', undefined);
    const verified = await full(t);
    assert.equal(verified.ok, true, verified.problem?.message);
    assert.deepEqual(
      verified.warnings.map((w) => w.code),
      ['AUDIT_MARK_REPLACED'],
    );
    const again = await tail(t);
    assert.equal(again.ok, true, again.problem?.message);
    assert.equal(again.verifiedFrom, N);
  });
});

test('after a checkpoint the mark moves only over records that verify, and only a bounded way', async () => {
  await victim(async (t) => {
    // A forged record after the mark: the next checkpoint signs the head, but the mark stays.
    await exec(t.store, `UPDATE audit_log SET actor = 'token_other' WHERE seq = 22`);
    await rechain(t.store, 22);
    assert.ok(await writeCheckpoint(t.store, keyring, testClock(), t.headFile));
    assert.equal(await markSeq(t.store), MARK);
    expectProblem(await tail(t), 'AUDIT_RECORD_FORGED', 22);
  });
  await victim(async (t) => {
    assert.equal(await earnedMark(t.store.db, keyring, N - MARK - 1), null, 'too far behind');
    assert.equal((await earnedMark(t.store.db, keyring, N - MARK))?.seq, N);
    assert.equal(await markSeq(t.store), MARK, 'earning is not recording');
    assert.ok(await writeCheckpoint(t.store, keyring, testClock(), t.headFile));
    assert.equal(await markSeq(t.store), N);
  });
});

test('the full verification reports progress with increasing counts, ending at the total', async () => {
  await victim(async (t) => {
    const calls: [number, number][] = [];
    const result = await verifyAudit(t.store, keyring.publicKey, t.headFile, {
      keyring,
      requireDetails: true,
      progressEvery: 10,
      onProgress: (done, total) => calls.push([done, total]),
    });
    assert.equal(result.ok, true);
    assert.deepEqual(calls, [
      [10, N],
      [20, N],
      [N, N],
    ]);
  });
});
