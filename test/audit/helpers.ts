import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { sql } from 'kysely';
import type { AppendOptions } from '../../src/audit/append.ts';
import { appendAudit } from '../../src/audit/append.ts';
import type { AuditEntry } from '../../src/audit/entry.ts';
import type { AuditKeyring } from '../../src/audit/keyring.ts';
import { memoryAuditKeyring } from '../../src/audit/keyring.ts';
import type { StoredRecord } from '../../src/audit/record.ts';
import { computeRecordHash, GENESIS_HASH } from '../../src/audit/record.ts';
import { toStoredRecord } from '../../src/audit/rows.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { fixedClock } from '../../src/core/clock.ts';
import type { Store } from '../../src/store/store.ts';
import { openSqliteStore } from '../../src/store/store.ts';

export interface TempStore {
  store: Store;
  dir: string;
  dbPath: string;
  headFile: string;
  cleanup(): Promise<void>;
}

/** A real SQLite store in a fresh temp dir (file-backed, so several handles and the file bytes can be checked). */
export async function tempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-audit-'));
  const dbPath = join(dir, 'warden.db');
  const store = await openSqliteStore(dbPath);
  return {
    store,
    dir,
    dbPath,
    headFile: join(dir, 'audit-head.json'),
    async cleanup() {
      // A test may have closed the store already (to inspect the file); closing twice is harmless here.
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` on a fresh store (`tempStore` or `memoryStore`), cleaned up after it whatever happens. */
export async function withStore<S extends { cleanup(): Promise<void> }>(
  open: () => Promise<S>,
  fn: (s: S) => Promise<void>,
): Promise<void> {
  const s = await open();
  try {
    await fn(s);
  } finally {
    await s.cleanup();
  }
}

/** Deterministic test keys (never for production): derived from a label so tests can make "another" key. */
export function testKeyring(label = 'test'): AuditKeyring {
  return memoryAuditKeyring(sha256(utf8(`sign:${label}`)), sha256(utf8(`details:${label}`)));
}

export function testClock() {
  return fixedClock(new Date('2025-01-01T00:00:00.000Z'));
}

export function sampleEntry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    actor: 'token_test',
    identity: i % 2 === 0 ? 'alice' : 'bob',
    action: 'bitcoin.sign',
    outcome: 'ok',
    summary: { operationId: `op_${i}`, protocol: 'bitcoin' },
    ...extra,
  };
}

/** Appends n sample records (with details when a keyring is given), advancing the clock a second each. */
export async function appendMany(
  store: Store,
  keyring: AuditKeyring | null,
  n: number,
  options: AppendOptions = {},
  clock = testClock(),
): Promise<void> {
  for (let i = 1; i <= n; i++) {
    const details = keyring ? { request: { n: i, to: `dest-${i}` } } : undefined;
    await appendAudit(store, keyring, { ...sampleEntry(i), ...(details ? { details } : {}) }, clock, options);
    clock.advance(1000);
  }
}

/** What an attacker with file access does first: the append-only triggers are just rows in sqlite_master. */
export async function dropTriggers(store: Store): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS audit_log_no_update`.execute(store.db);
  await sql`DROP TRIGGER IF EXISTS audit_log_no_delete`.execute(store.db);
}

export async function countRows(store: Store, table: 'audit_log' | 'audit_checkpoint'): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Builds a log once and hands out copies: appends are fsync'd (synchronous=FULL), so building a fresh
 * log for every tampering test would make the suite slow. The template store is closed first, which
 * folds the WAL into the main file, so copying the one file (and the anchor) copies the whole log.
 */
export async function templateFactory(build: (t: TempStore) => Promise<void>): Promise<{
  clone(): Promise<TempStore>;
  dispose(): void;
}> {
  const template = await tempStore();
  await build(template);
  await template.store.close();
  return {
    async clone() {
      const dir = mkdtempSync(join(tmpdir(), 'warden-audit-'));
      const dbPath = join(dir, 'warden.db');
      const headFile = join(dir, 'audit-head.json');
      copyFileSync(template.dbPath, dbPath);
      if (existsSync(template.headFile)) copyFileSync(template.headFile, headFile);
      const store = await openSqliteStore(dbPath);
      return {
        store,
        dir,
        dbPath,
        headFile,
        async cleanup() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    dispose() {
      rmSync(template.dir, { recursive: true, force: true });
    },
  };
}

/** An in-memory SQLite store (same code path, no fsync): for tests about logic rather than files. */
export async function memoryStore(): Promise<{ store: Store; cleanup(): Promise<void> }> {
  const store = await openSqliteStore(':memory:');
  return { store, cleanup: () => store.close() };
}

/** The log's rows from `fromSeq` on, as the verifier reads them. */
export async function rows(store: Store, fromSeq = 1): Promise<StoredRecord[]> {
  const all = await store.db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>=', fromSeq)
    .orderBy('seq')
    .execute();
  return all.map((r) => toStoredRecord(r as unknown as Record<string, unknown>));
}

/** Raw SQL, as someone with the database file would run it. */
export async function exec(store: Store, query: string): Promise<void> {
  await sql.raw(query).execute(store.db);
}

/** What a careful attacker does after an edit: recompute every hash from `fromSeq` on, so the chain is consistent. */
export async function rechain(store: Store, fromSeq: number): Promise<void> {
  const before = await store.db
    .selectFrom('audit_log')
    .select('record_hash')
    .where('seq', '=', fromSeq - 1)
    .executeTakeFirst();
  let prev = before ? new Uint8Array(before.record_hash) : GENESIS_HASH;
  for (const r of await rows(store, fromSeq)) {
    const record_hash = computeRecordHash({ ...r, prev_hash: prev });
    await store.db
      .updateTable('audit_log')
      .set({ prev_hash: prev, record_hash })
      .where('seq', '=', r.seq)
      .execute();
    prev = record_hash;
  }
}

/**
 * A log built once for a test file (`build`, before its tests) and, per use, a fresh copy of it
 * with the append-only triggers dropped, as an attacker with the file would; `untouched` checks
 * the copy first. Returns the function that hands a test its copy.
 */
export function tamperableCopies(
  build: (t: TempStore) => Promise<void>,
  untouched?: (t: TempStore) => Promise<void>,
): (fn: (t: TempStore) => Promise<void>) => Promise<void> {
  let template: Awaited<ReturnType<typeof templateFactory>> | undefined;
  before(async () => {
    template = await templateFactory(build);
  });
  after(() => template?.dispose());
  return async (fn) => {
    if (!template) throw new Error('tamperableCopies: the template is built before the tests');
    const t = await template.clone();
    try {
      await untouched?.(t);
      await dropTriggers(t.store);
      await fn(t);
    } finally {
      await t.cleanup();
    }
  };
}
