import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { appendAudit, appendAuditInTx, audited } from '../../src/audit/append.ts';
import type { AuditEntry } from '../../src/audit/entry.ts';
import type { AuditKeyring } from '../../src/audit/keyring.ts';
import { computeRecordHash, GENESIS_HASH } from '../../src/audit/record.ts';
import { toStoredRecord } from '../../src/audit/rows.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import { isWardenError, type WardenError } from '../../src/core/errors.ts';
import type { Store } from '../../src/store/store.ts';
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

function assertAppendFailed(err: unknown, reason?: string): true {
  assert.ok(isWardenError(err, 'AUDIT_APPEND_FAILED'), `expected AUDIT_APPEND_FAILED, got ${String(err)}`);
  assert.ok(err.cause !== undefined, 'the cause is attached');
  if (reason !== undefined) assert.equal(err.details.reason, reason);
  return true;
}

test('appends a contiguous hash chain from genesis that verifies clean', async () => {
  await withStore(tempStore, async (t) => {
    await appendMany(t.store, keyring, 12);
    const rows = (await t.store.db.selectFrom('audit_log').selectAll().orderBy('seq').execute()).map((r) =>
      toStoredRecord(r as unknown as Record<string, unknown>),
    );
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.deepEqual(rows[0]?.prev_hash, GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) assert.deepEqual(rows[i]?.prev_hash, rows[i - 1]?.record_hash);
    for (const r of rows) assert.deepEqual(computeRecordHash(r), r.record_hash);
    const result = await verifyAudit(t.store, keyring.publicKey);
    assert.equal(result.ok, true);
    assert.equal(result.records, 12);
    assert.equal(result.problem, undefined);
  });
});

test('an empty log verifies', async () => {
  await withStore(tempStore, async (t) => {
    const result = await verifyAudit(t.store, keyring.publicKey);
    assert.deepEqual(
      { ok: result.ok, records: result.records, checkpoints: result.checkpoints },
      { ok: true, records: 0, checkpoints: 0 },
    );
  });
});

test('returns seq and record hash, and stores the summary as canonical clear text', async () => {
  await withStore(tempStore, async (t) => {
    const clock = testClock();
    const first = await appendAudit(t.store, null, sampleEntry(1), clock);
    const second = await appendAudit(
      t.store,
      null,
      { ...sampleEntry(2), summary: { protocol: 'nostr', operationId: 'op_2', kind: 1, ok: true } },
      clock,
    );
    assert.equal(first.seq, 1);
    assert.equal(second.seq, 2);
    const row = await t.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '=', 2)
      .executeTakeFirstOrThrow();
    assert.equal(row.summary, '{"kind":1,"ok":true,"operationId":"op_2","protocol":"nostr"}');
    assert.equal(row.details, null);
    assert.deepEqual(new Uint8Array(row.record_hash), second.recordHash);
    assert.equal(row.time, '2025-01-01T00:00:00.000Z');
  });
});

test('rejects summaries that are not short scalars, and writes nothing', async () => {
  await withStore(tempStore, async (t) => {
    const bad: AuditEntry['summary'][] = [
      { operationId: 'op', nested: { a: 1 } as unknown as string },
      { operationId: 'op', list: [1, 2] as unknown as string },
      { operationId: 'op', amount: 1000 },
      { operationId: 'op', destinationAddress: 'x' },
      { operationId: 'op', note: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' },
      { operationId: 'op', note: `0x${'ab'.repeat(20)}` },
      { operationId: 'op', note: 'x'.repeat(129) },
      { operationId: 'op', big: 1n as unknown as number },
      { operationId: 'op', n: Number.NaN },
      { protocol: 'bitcoin' } as unknown as AuditEntry['summary'],
    ];
    for (const summary of bad) {
      await assert.rejects(
        appendAudit(t.store, keyring, { ...sampleEntry(1), summary }, testClock()),
        (err) => assertAppendFailed(err, 'INVALID_ARGUMENT'),
        JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      );
    }
    const badEntries: AuditEntry[] = [
      { ...sampleEntry(1), action: 'Not An Action' },
      { ...sampleEntry(1), outcome: 'maybe' as AuditEntry['outcome'] },
      { ...sampleEntry(1), actor: '' },
      { ...sampleEntry(1), identity: 'bad\nname' },
    ];
    for (const entry of badEntries) {
      await assert.rejects(appendAudit(t.store, keyring, entry, testClock()), (err) =>
        assertAppendFailed(err, 'INVALID_ARGUMENT'),
      );
    }
    assert.equal(await countRows(t.store, 'audit_log'), 0);
  });
});

test('details without a keyring (sealed vault) are refused, never stored in clear', async () => {
  await withStore(tempStore, async (t) => {
    await assert.rejects(
      appendAudit(t.store, null, { ...sampleEntry(1), details: { to: 'somewhere' } }, testClock()),
      (err) => {
        assertAppendFailed(err, 'VAULT_SEALED');
        assert.ok(isWardenError((err as WardenError).cause, 'VAULT_SEALED'));
        return true;
      },
    );
    assert.equal(await countRows(t.store, 'audit_log'), 0);
    const ok = await appendAudit(t.store, null, sampleEntry(1), testClock());
    assert.equal(ok.seq, 1);
  });
});

/** The real store, except that its transaction fails (disk full, database locked, …). */
function failingStore(real: Store): Store {
  return {
    db: real.db,
    path: real.path,
    async transaction() {
      throw new Error('SQLITE_FULL: database or disk is full');
    },
    async batch() {
      throw new Error('SQLITE_FULL: database or disk is full');
    },
    close: () => real.close(),
  };
}

test('fail closed: when the store cannot write, audited() throws AUDIT_APPEND_FAILED and never runs the effect', async () => {
  await withStore(tempStore, async (t) => {
    let ran = false;
    await assert.rejects(
      audited(failingStore(t.store), keyring, sampleEntry(1), testClock(), () => {
        ran = true;
        return 'signed';
      }),
      (err) => assertAppendFailed(err, 'STORE_ERROR'),
    );
    assert.equal(ran, false, 'the effect must not run');
    assert.equal(await countRows(t.store, 'audit_log'), 0);
  });
});

test('fail closed: a failing insert (real SQLite error) or a failing encryption stops the effect too', async () => {
  await withStore(tempStore, async (t) => {
    let ran = 0;
    const effect = () => {
      ran++;
    };
    await sql`CREATE TRIGGER refuse_insert BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'no'); END`.execute(
      t.store.db,
    );
    await assert.rejects(audited(t.store, keyring, sampleEntry(1), testClock(), effect), (err) =>
      assertAppendFailed(err),
    );
    await sql`DROP TRIGGER refuse_insert`.execute(t.store.db);

    const brokenKeyring: AuditKeyring = {
      ...keyring,
      keyId: keyring.keyId,
      publicKey: keyring.publicKey,
      encrypt: () => {
        throw new Error('hardware key unplugged');
      },
    };
    await assert.rejects(
      audited(t.store, brokenKeyring, { ...sampleEntry(1), details: { a: 1 } }, testClock(), effect),
      (err) => assertAppendFailed(err),
    );
    assert.equal(ran, 0);
    assert.equal(await countRows(t.store, 'audit_log'), 0);
  });
});

test('audited() runs the effect after the record is committed and returns its result', async () => {
  await withStore(tempStore, async (t) => {
    const result = await audited(t.store, keyring, sampleEntry(1), testClock(), async () => {
      // The record is already durable when the effect runs.
      assert.equal(await countRows(t.store, 'audit_log'), 1);
      return 42;
    });
    assert.equal(result, 42);
  });
});

test('appendAuditInTx joins the caller transaction: a rollback removes the record too', async () => {
  await withStore(tempStore, async (t) => {
    await appendAudit(t.store, keyring, sampleEntry(1), testClock());
    await assert.rejects(
      t.store.transaction(async (tx) => {
        const r = await appendAuditInTx(tx.sync, keyring, sampleEntry(2), testClock());
        assert.equal(r.seq, 2);
        throw new Error('ledger reservation failed');
      }),
      /ledger reservation failed/,
    );
    assert.equal(await countRows(t.store, 'audit_log'), 1);
    const next = await t.store.transaction(async (tx) =>
      appendAuditInTx(tx.sync, keyring, sampleEntry(3), testClock()),
    );
    assert.equal(next.seq, 2, 'the rolled-back seq is reused, so the chain stays contiguous');
    assert.equal((await verifyAudit(t.store, keyring.publicKey)).ok, true);
  });
});

test('an invalid clock fails the append closed', async () => {
  await withStore(memoryStore, async (m) => {
    await assert.rejects(
      appendAudit(m.store, null, sampleEntry(1), { now: () => new Date(Number.NaN) }),
      (err) => isWardenError(err, 'AUDIT_APPEND_FAILED') && err.details.reason === 'INVALID_ARGUMENT',
    );
  });
});
