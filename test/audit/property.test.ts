import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { readAnchorFile } from '../../src/audit/anchor.ts';
import { appendAuditInTx } from '../../src/audit/append.ts';
import { writeCheckpoint } from '../../src/audit/checkpoint.ts';
import { encodeSummary } from '../../src/audit/entry.ts';
import { computeRecordHash } from '../../src/audit/record.ts';
import { toStoredRecord } from '../../src/audit/rows.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import { isWardenError } from '../../src/core/errors.ts';
import type { Store } from '../../src/store/store.ts';
import { dropTriggers, memoryStore, sampleEntry, tempStore, testClock, testKeyring } from './helpers.ts';

const keyring = testKeyring();
const N = 30;

type Tamper =
  | { kind: 'edit'; seq: number; column: 'actor' | 'action' | 'outcome' | 'summary' | 'time' | 'identity' }
  | { kind: 'delete'; seq: number; renumber: boolean }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'insert'; seq: number };

const tamperArb: fc.Arbitrary<Tamper> = fc.oneof(
  fc.record({
    kind: fc.constant('edit' as const),
    seq: fc.integer({ min: 1, max: N }),
    column: fc.constantFrom('actor', 'action', 'outcome', 'summary', 'time', 'identity'),
  }),
  // The newest record is left out: deleting it is truncation, tested on its own.
  fc.record({
    kind: fc.constant('delete' as const),
    seq: fc.integer({ min: 1, max: N - 1 }),
    renumber: fc.boolean(),
  }),
  fc
    .tuple(fc.integer({ min: 1, max: N }), fc.integer({ min: 1, max: N }))
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => ({ kind: 'swap' as const, a: Math.min(a, b), b: Math.max(a, b) })),
  fc.record({ kind: fc.constant('insert' as const), seq: fc.integer({ min: 1, max: N }) }),
);

const EXPECTED: Record<Tamper['kind'], string> = {
  edit: 'AUDIT_RECORD_MODIFIED',
  delete: 'AUDIT_RECORD_MISSING',
  swap: 'AUDIT_RECORD_REORDERED',
  insert: 'AUDIT_RECORD_INSERTED',
};

async function exec(store: Store, query: string): Promise<void> {
  await sql.raw(query).execute(store.db);
}

async function apply(store: Store, t: Tamper): Promise<number> {
  switch (t.kind) {
    case 'edit':
      await exec(store, `UPDATE audit_log SET ${t.column} = ${t.column} || 'x' WHERE seq = ${t.seq}`);
      return t.seq;
    case 'delete':
      await exec(store, `DELETE FROM audit_log WHERE seq = ${t.seq}`);
      if (t.renumber) {
        await exec(store, `UPDATE audit_log SET seq = seq + 1000000 WHERE seq > ${t.seq}`);
        await exec(store, 'UPDATE audit_log SET seq = seq - 1000001 WHERE seq >= 1000000');
      }
      return t.seq;
    case 'swap':
      await exec(store, `UPDATE audit_log SET seq = -1 WHERE seq = ${t.a}`);
      await exec(store, `UPDATE audit_log SET seq = ${t.a} WHERE seq = ${t.b}`);
      await exec(store, `UPDATE audit_log SET seq = ${t.b} WHERE seq = -1`);
      return t.a;
    case 'insert': {
      const prevRow = await store.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '=', t.seq - 1)
        .executeTakeFirst();
      await exec(store, `UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= ${t.seq}`);
      await exec(store, 'UPDATE audit_log SET seq = seq - 999999 WHERE seq >= 1000000');
      const forged = {
        seq: t.seq,
        time: '2025-01-01T00:00:00.000Z',
        actor: 'token_forged',
        identity: null,
        action: 'evm.sign',
        outcome: 'ok',
        summary: '{"operationId":"op_forged"}',
        details: null,
        prev_hash: prevRow
          ? toStoredRecord(prevRow as unknown as Record<string, unknown>).record_hash
          : new Uint8Array(32),
      };
      await store.db
        .insertInto('audit_log')
        .values({ ...forged, record_hash: computeRecordHash(forged) })
        .execute();
      return t.seq;
    }
  }
}

test('any single tampering is detected, named, and located at the right seq', async () => {
  await fc.assert(
    fc.asyncProperty(tamperArb, async (tamper) => {
      const m = await memoryStore();
      try {
        const clock = testClock();
        await m.store.transaction(async (tx) => {
          for (let i = 1; i <= N; i++) {
            await appendAuditInTx(tx.sync, keyring, { ...sampleEntry(i), details: { i } }, clock);
            clock.advance(1000);
          }
        });
        await writeCheckpoint(m.store, keyring, clock);
        await dropTriggers(m.store);
        const expectedSeq = await apply(m.store, tamper);
        const result = await verifyAudit(m.store, keyring.publicKey);
        assert.equal(result.ok, false);
        assert.equal(result.problem?.code, EXPECTED[tamper.kind], result.problem?.message);
        assert.equal(result.firstBadSeq, expectedSeq, result.problem?.message);
      } finally {
        await m.cleanup();
      }
    }),
    { numRuns: 25 },
  );
});

test('summary validation accepts short scalars only and fails only with INVALID_ARGUMENT', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })), (extra) => {
      const summary = { ...extra, operationId: 'op_1' };
      try {
        const text = encodeSummary(summary);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        for (const value of Object.values(parsed)) {
          assert.ok(['string', 'number', 'boolean'].includes(typeof value));
          if (typeof value === 'string') assert.ok(value.length <= 128);
        }
      } catch (err) {
        assert.ok(isWardenError(err, 'INVALID_ARGUMENT'), String(err));
      }
    }),
    { numRuns: 300 },
  );
});

test('the anchor file reader reports bad files as invalid and never throws on their content', async () => {
  const t = await tempStore();
  try {
    const path = join(t.dir, 'audit-head.json');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc
            .record({
              v: fc.constantFrom(1, 2, '1'),
              seq: fc.oneof(fc.integer(), fc.double(), fc.string()),
              recordHash: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)),
              time: fc.string(),
              keyId: fc.string(),
              signature: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{128}$/)),
            })
            .map((v) => JSON.stringify(v)),
        ),
        async (content) => {
          writeFileSync(path, content);
          const read = await readAnchorFile(path);
          if (read.kind === 'ok') {
            assert.ok(Number.isSafeInteger(read.checkpoint.seq) && read.checkpoint.seq >= 1);
            assert.equal(read.checkpoint.recordHash.length, 32);
            assert.equal(read.checkpoint.signature.length, 64);
          } else {
            assert.equal(read.kind, 'invalid');
          }
        },
      ),
      { numRuns: 200 },
    );
  } finally {
    await t.cleanup();
  }
});
