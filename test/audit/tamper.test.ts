import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { sql } from 'kysely';
import { appendAudit, appendAuditInTx } from '../../src/audit/append.ts';
import { checkpointMessage, writeCheckpoint } from '../../src/audit/checkpoint.ts';
import { computeRecordHash } from '../../src/audit/record.ts';
import type { VerifyResult } from '../../src/audit/verify.ts';
import { assertAuditIntact, verifyAudit } from '../../src/audit/verify.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { isWardenError, WardenError } from '../../src/core/errors.ts';
import type { Store } from '../../src/store/store.ts';
import {
  appendMany,
  dropTriggers,
  exec,
  memoryStore,
  rechain,
  rows,
  sampleEntry,
  tamperableCopies,
  testClock,
  testKeyring,
} from './helpers.ts';

const keyring = testKeyring();
const N = 25;
const EVERY = 10;

/**
 * 25 records, checkpoints at 10, 20 and (at close) 25, anchor file at 25. Built once; each test
 * gets a copy that verifies untouched, its append-only triggers then dropped.
 */
const victim = tamperableCopies(
  async (t) => {
    await appendMany(t.store, keyring, N, { checkpointEvery: EVERY, headFile: t.headFile });
    await writeCheckpoint(t.store, keyring, testClock(), t.headFile);
  },
  async (t) => {
    const clean = await verifyAudit(t.store, keyring.publicKey, t.headFile);
    assert.equal(clean.ok, true, 'the untouched log verifies');
    assert.equal(clean.anchor, 'verified');
  },
);

function expectProblem(result: VerifyResult, code: string, firstBadSeq: number | undefined) {
  assert.equal(result.ok, false, 'tampering must be detected');
  assert.equal(result.problem?.code, code, result.problem?.message);
  assert.equal(result.firstBadSeq, firstBadSeq, result.problem?.message);
}

/** Moves records with seq >= from by delta, without primary-key collisions. */
async function renumber(store: Store, from: number, delta: number): Promise<void> {
  await exec(store, `UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= ${from}`);
  await exec(store, `UPDATE audit_log SET seq = seq - 1000000 + (${delta}) WHERE seq >= 1000000`);
}

async function swap(store: Store, a: number, b: number): Promise<void> {
  await exec(store, `UPDATE audit_log SET seq = -1 WHERE seq = ${a}`);
  await exec(store, `UPDATE audit_log SET seq = ${a} WHERE seq = ${b}`);
  await exec(store, `UPDATE audit_log SET seq = ${b} WHERE seq = -1`);
}

async function insertForged(
  store: Store,
  seq: number,
  prev: Uint8Array,
  recordHash?: Uint8Array,
): Promise<void> {
  const record = {
    seq,
    time: '2025-01-01T00:00:05.500Z',
    actor: 'token_test',
    identity: 'alice',
    action: 'bitcoin.sign',
    outcome: 'ok',
    summary: '{"operationId":"op_forged","protocol":"bitcoin"}',
    details: null,
    prev_hash: prev,
  };
  await store.db
    .insertInto('audit_log')
    .values({ ...record, record_hash: recordHash ?? computeRecordHash(record) })
    .execute();
}

test('an edited field is detected at that record', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 7`);
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_MODIFIED', 7);
  });
});

test('an edited record whose own hash was recomputed is detected at that record (its successor no longer links)', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET actor = 'someone_else' WHERE seq = 7`);
    const [r7] = await rows(t.store, 7);
    assert.ok(r7);
    await t.store.db
      .updateTable('audit_log')
      .set({ record_hash: computeRecordHash(r7) })
      .where('seq', '=', 7)
      .execute();
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_MODIFIED', 7);
  });
});

test('an edit to the first record is detected at seq 1', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET summary = '{"operationId":"op_x"}' WHERE seq = 1`);
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_MODIFIED', 1);
  });
});

test('an edit re-chained to the end is caught by the next signed checkpoint', async () => {
  await victim(async (t) => {
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 15`);
    await rechain(t.store, 15);
    // Records 11..20 are the span the checkpoints can no longer vouch for.
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_MODIFIED', 11);
  });
});

test('a deleted middle record is detected as missing', async () => {
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_log WHERE seq = 5');
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_MISSING', 5);
  });
});

test('deleted records with the later ones renumbered to close the gap are detected as missing', async () => {
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_log WHERE seq IN (5, 6)');
    await renumber(t.store, 7, -2);
    const result = await verifyAudit(t.store, keyring.publicKey);
    expectProblem(result, 'AUDIT_RECORD_MISSING', 5);
    assert.match(result.problem?.message ?? '', /5\.\.6/);
  });
});

test('two swapped records are detected as reordered', async () => {
  await victim(async (t) => {
    await swap(t.store, 4, 9);
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_REORDERED', 4);
  });
  await victim(async (t) => {
    await swap(t.store, 12, 13);
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_REORDERED', 12);
  });
});

test('a duplicated record is detected as reordered', async () => {
  await victim(async (t) => {
    // Replace record 8 by a copy of record 3 (all columns, including its hashes).
    await exec(t.store, 'DELETE FROM audit_log WHERE seq = 8');
    await exec(
      t.store,
      `INSERT INTO audit_log SELECT 8, time, actor, identity, action, outcome, summary, details, prev_hash, record_hash
       FROM audit_log WHERE seq = 3`,
    );
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_REORDERED', 8);
  });
});

test('a forged record inserted in the middle (later records pushed up) is detected as inserted', async () => {
  await victim(async (t) => {
    const [r5] = await rows(t.store, 5);
    assert.ok(r5);
    await renumber(t.store, 6, 1);
    // A well-formed forgery: it links to record 5 and hashes correctly at seq 6.
    await insertForged(t.store, 6, r5.record_hash);
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_INSERTED', 6);
  });
});

test('a forged record inserted just before a checkpointed record is detected as inserted', async () => {
  await victim(async (t) => {
    const [r9] = await rows(t.store, 9);
    assert.ok(r9);
    await renumber(t.store, 10, 1);
    // Record 10 is forged but well-formed; the record the checkpoint at 10 signed is now at 11.
    await insertForged(t.store, 10, r9.record_hash);
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_INSERTED', 10);
  });
});

test('a sloppy forged record (wrong hash and link) inserted in the middle is detected as inserted', async () => {
  await victim(async (t) => {
    await renumber(t.store, 6, 1);
    await insertForged(t.store, 6, sha256(utf8('junk')), sha256(utf8('more junk')));
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_INSERTED', 6);
  });
});

test('a self-consistent forged record with a wrong link, pushed in the middle, is detected as inserted', async () => {
  await victim(async (t) => {
    await renumber(t.store, 6, 1);
    await insertForged(t.store, 6, sha256(utf8('not the previous record')));
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_INSERTED', 6);
  });
});

test('records deleted from the tail, behind a signed checkpoint, are detected as truncation', async () => {
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_log WHERE seq >= 15');
    const result = await verifyAudit(t.store, keyring.publicKey);
    expectProblem(result, 'AUDIT_TRUNCATED', 15);
    assert.equal(result.records, 14);
  });
});

test('tail records deleted together with their checkpoints are detected through the anchor file', async () => {
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_log WHERE seq >= 15');
    await exec(t.store, 'DELETE FROM audit_checkpoint WHERE seq >= 15');
    // The database alone now looks consistent: this is what the anchor file is for.
    assert.equal((await verifyAudit(t.store, keyring.publicKey)).ok, true);
    const result = await verifyAudit(t.store, keyring.publicKey, t.headFile);
    expectProblem(result, 'AUDIT_TRUNCATED', 15);
    assert.equal(result.anchor, 'failed');
  });
});

test('a truncated log regrown with new records (no key to sign) is caught by the anchor file', async () => {
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_log WHERE seq >= 15');
    await exec(t.store, 'DELETE FROM audit_checkpoint WHERE seq >= 15');
    for (let i = 15; i <= 30; i++) await appendAudit(t.store, null, sampleEntry(i), testClock());
    expectProblem(await verifyAudit(t.store, keyring.publicKey, t.headFile), 'AUDIT_RECORD_MODIFIED', 11);
  });
});

test('a forged checkpoint signature is detected', async () => {
  await victim(async (t) => {
    const cp = await t.store.db
      .selectFrom('audit_checkpoint')
      .selectAll()
      .where('seq', '=', 20)
      .executeTakeFirstOrThrow();
    const signature = Uint8Array.from(cp.signature);
    signature[10] = (signature[10] ?? 0) ^ 0x01;
    await t.store.db.updateTable('audit_checkpoint').set({ signature }).where('id', '=', cp.id).execute();
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_CHECKPOINT_INVALID', 20);
  });
});

test('a checkpoint signed by another key is rejected', async () => {
  await victim(async (t) => {
    const other = testKeyring('attacker');
    const [r22] = await rows(t.store, 22);
    assert.ok(r22);
    const unsigned = {
      seq: 22,
      recordHash: r22.record_hash,
      time: '2025-01-02T00:00:00.000Z',
      keyId: keyring.keyId,
    };
    await t.store.db
      .insertInto('audit_checkpoint')
      .values({
        seq: 22,
        record_hash: r22.record_hash,
        time: unsigned.time,
        key_id: unsigned.keyId,
        signature: await other.sign(checkpointMessage(unsigned)),
      })
      .execute();
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_CHECKPOINT_INVALID', 22);
  });
});

test('a forged checkpoint past the end of the log is invalid, not mistaken for truncation', async () => {
  await victim(async (t) => {
    await t.store.db
      .insertInto('audit_checkpoint')
      .values({
        seq: 99,
        record_hash: new Uint8Array(32),
        time: 'x',
        key_id: 'x',
        signature: new Uint8Array(64),
      })
      .execute();
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_CHECKPOINT_INVALID', 99);
  });
});

test('a forged or unreadable anchor file is detected', async () => {
  await victim(async (t) => {
    const anchor = JSON.parse((await import('node:fs')).readFileSync(t.headFile, 'utf8'));
    anchor.seq = 24;
    writeFileSync(t.headFile, JSON.stringify(anchor));
    expectProblem(
      await verifyAudit(t.store, keyring.publicKey, t.headFile),
      'AUDIT_CHECKPOINT_INVALID',
      undefined,
    );
    writeFileSync(t.headFile, '{not json');
    expectProblem(
      await verifyAudit(t.store, keyring.publicKey, t.headFile),
      'AUDIT_CHECKPOINT_INVALID',
      undefined,
    );
  });
});

test('the checkpoint named by the anchor file missing from the database is detected', async () => {
  await victim(async (t) => {
    await exec(t.store, 'DELETE FROM audit_checkpoint WHERE seq = 25');
    expectProblem(await verifyAudit(t.store, keyring.publicKey, t.headFile), 'AUDIT_CHECKPOINT_INVALID', 25);
  });
});

test('verification reads in pages: a log longer than one page verifies and a break deep in it is found', async () => {
  const t = await memoryStore();
  try {
    // One transaction for all of them: this test is about reading, not about append latency.
    await t.store.transaction(async (tx) => {
      for (let i = 1; i <= 620; i++) await appendAuditInTx(tx.sync, null, sampleEntry(i), testClock());
    });
    await writeCheckpoint(t.store, keyring, testClock());
    assert.equal((await verifyAudit(t.store, keyring.publicKey)).records, 620);
    await dropTriggers(t.store);
    await exec(t.store, `UPDATE audit_log SET action = 'nostr.sign' WHERE seq = 510`);
    expectProblem(await verifyAudit(t.store, keyring.publicKey), 'AUDIT_RECORD_MODIFIED', 510);
  } finally {
    await t.cleanup();
  }
});

test('verify refuses a public key of the wrong size', async () => {
  const m = await memoryStore();
  try {
    await assert.rejects(verifyAudit(m.store, new Uint8Array(33)), { code: 'INVALID_ARGUMENT' });
  } finally {
    await m.cleanup();
  }
});

test('assertAuditIntact throws AUDIT_CHAIN_BROKEN with the problem and first bad seq', async () => {
  const m = await memoryStore();
  try {
    const keyring = testKeyring();
    for (let i = 1; i <= 3; i++) await appendAudit(m.store, keyring, sampleEntry(i), testClock());
    assert.equal((await assertAuditIntact(m.store, keyring.publicKey)).records, 3);
    await dropTriggers(m.store);
    await sql`UPDATE audit_log SET actor = 'x' WHERE seq = 2`.execute(m.store.db);
    await assert.rejects(assertAuditIntact(m.store, keyring.publicKey), (err) => {
      assert.ok(isWardenError(err, 'AUDIT_CHAIN_BROKEN'));
      assert.deepEqual(err.details, { problem: 'AUDIT_RECORD_MODIFIED', firstBadSeq: 2 });
      return true;
    });
  } finally {
    await m.cleanup();
  }
});

/** Unsealed verification: every record's details must open under the vault's audit key. */
const withKey = { keyring, requireDetails: true };

test('unsealed, every genuine record authenticates under the audit key', async () => {
  await victim(async (t) => {
    const result = await verifyAudit(t.store, keyring.publicKey, t.headFile, withKey);
    assert.equal(result.ok, true, result.problem?.message);
    assert.equal(result.authenticated, N);
    assert.equal((await verifyAudit(t.store, keyring.publicKey, t.headFile)).authenticated, null);
  });
});

test('records forged after the last checkpoint pass the chain alone, but not the audit key', async () => {
  await victim(async (t) => {
    // The attacker runs Warden's own append code, with a details key of their own.
    await appendAudit(
      t.store,
      testKeyring('attacker'),
      sampleEntry(26, { details: { fake: 1 } }),
      testClock(),
    );
    const sealed = await verifyAudit(t.store, keyring.publicKey, t.headFile);
    assert.equal(sealed.ok, true, 'the hash chain alone cannot tell (the limit a sealed verify states)');
    expectProblem(
      await verifyAudit(t.store, keyring.publicKey, t.headFile, withKey),
      'AUDIT_RECORD_FORGED',
      N + 1,
    );
  });
});

test('a forged record without details is caught when every record must carry them', async () => {
  await victim(async (t) => {
    await appendAudit(t.store, null, sampleEntry(26), testClock());
    const lenient = await verifyAudit(t.store, keyring.publicKey, t.headFile, { keyring });
    assert.equal(lenient.ok, true);
    assert.equal(lenient.authenticated, N, 'a record without details is not counted as authenticated');
    expectProblem(
      await verifyAudit(t.store, keyring.publicKey, t.headFile, withKey),
      'AUDIT_RECORD_FORGED',
      N + 1,
    );
  });
});

test('records rewritten past the last checkpoint with a fresh chain fail authentication at the first', async () => {
  await victim(async (t) => {
    await appendMany(t.store, keyring, 3, {}, testClock());
    // Records 26..28 are genuine and behind no checkpoint; 27 is edited and the chain recomputed.
    await exec(t.store, `UPDATE audit_log SET outcome = 'denied' WHERE seq = ${N + 2}`);
    await rechain(t.store, N + 2);
    assert.equal((await verifyAudit(t.store, keyring.publicKey, t.headFile)).ok, true);
    expectProblem(
      await verifyAudit(t.store, keyring.publicKey, t.headFile, withKey),
      'AUDIT_RECORD_FORGED',
      N + 2,
    );
  });
});

test('a details blob moved to another record does not authenticate there', async () => {
  await victim(async (t) => {
    await appendMany(t.store, keyring, 2, {}, testClock());
    await exec(
      t.store,
      `UPDATE audit_log SET details = (SELECT details FROM audit_log WHERE seq = ${N + 1}) WHERE seq = ${N + 2}`,
    );
    await rechain(t.store, N + 2);
    expectProblem(
      await verifyAudit(t.store, keyring.publicKey, t.headFile, withKey),
      'AUDIT_RECORD_FORGED',
      N + 2,
    );
  });
});

test('a keyring that cannot be used is reported as such, never as a forged record', async () => {
  await victim(async (t) => {
    const refuse = async (): Promise<never> => {
      throw new WardenError('VAULT_SEALED', 'the vault is sealed');
    };
    const sealed = { ...keyring, decrypt: refuse, decryptMany: refuse };
    await assert.rejects(
      verifyAudit(t.store, keyring.publicKey, t.headFile, { keyring: sealed, requireDetails: true }),
      (e) => isWardenError(e, 'VAULT_SEALED'),
    );
  });
});
