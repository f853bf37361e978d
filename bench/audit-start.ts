/**
 * Benchmark stages: start-up and status with a long audit log. `warden start` and `warden status`
 * run the start-up check (audit/verify-tail.ts), which reads only the records after the verified
 * mark; `warden audit verify` reads them all. The stages build a home with a long log once, then:
 *
 *   audit.verify_full_1m  the full verification, as records/s (it also sets the verified mark)
 *   audit.start_1m        what `warden start` does before it listens: unseal + the start-up check
 *   audit.status_1m       what `warden status` does: unseal + the start-up check + close
 *   audit.start_empty     the same start on a home whose log holds only its first records
 *
 * The start stages are in process, through the same functions the CLI calls (Warden.unseal and
 * Warden.status; the CLI adds process start-up and printing, which do not grow with the log).
 * The vault's KDF is made cheap (as in nostr-sign.ts); its time is in `notes`, to add back.
 *
 *   BENCH_AUDIT_RECORDS=100000   records in the long log (default 1 000 000)
 *   BENCH_AUDIT_RUNS=5           runs of each start stage (default 3; the median is reported)
 *   BENCH_AUDIT_HOME=/tmp/a1m    keep the long log's home there and reuse it while it holds
 *                                BENCH_AUDIT_RECORDS records (building 1M takes minutes)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkpointMessage, DEFAULT_CHECKPOINT_EVERY } from '../src/audit/checkpoint.ts';
import { auditRecord, validateEntry } from '../src/audit/entry.ts';
import type { AuditKeyring } from '../src/audit/keyring.ts';
import { computeRecordHash, detailsAad, type StoredRecord } from '../src/audit/record.ts';
import { readHead } from '../src/audit/rows.ts';
import { utf8 } from '../src/core/bytes.ts';
import { nullLogger } from '../src/core/logger.ts';
import { Warden, type WardenOptions } from '../src/gateway/warden.ts';
import { DEFAULT_KDF, deriveKeys } from '../src/keys/kdf.ts';
import { MODULE_MIGRATIONS } from '../src/protocols/registry.ts';
import { openSqliteStore, type Store } from '../src/store/store.ts';
import { type BenchOptions, measureWall, type StageResult } from './measure.ts';

const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_AUDIT_RUNS ?? 3);
const KDF = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };
/** Records per transaction while building: the real append commits (and fsyncs) each one. */
const BATCH = 5000;
/** Rows per INSERT statement (10 columns each, well under SQLite's bound on parameters). */
const ROWS_PER_INSERT = 500;

const passphrase = () => utf8('benchmark passphrase 2026');

function options(home: string): WardenOptions {
  return { home, actor: 'bench', logger: nullLogger(), kdf: KDF };
}

/**
 * Appends `count` records the way the request path writes them (the one record builder, the
 * entry validation, details sealed under the vault's audit key and bound to the record, the real
 * record hash, a signed checkpoint every DEFAULT_CHECKPOINT_EVERY), many to a transaction.
 */
async function appendBulk(store: Store, keyring: AuditKeyring, count: number): Promise<void> {
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  for (let done = 0; done < count; ) {
    const n = Math.min(BATCH, count - done);
    await store.transaction(async (tx) => {
      const head = await readHead(tx);
      if (!head) throw new Error('a new vault has its first records');
      const fields = Array.from({ length: n }, (_, i) => {
        const seq = head.seq + 1 + i;
        const entry = validateEntry(
          auditRecord({
            actor: 'agent:tok_bench',
            identity: 'bench',
            action: 'nostr.sign_event',
            outcome: 'ok',
            operationId: `req_bench${seq}`,
            protocol: 'nostr',
            details: {
              request: { kind: 1, content: `benchmark note ${seq}`, tags: [['t', 'bench']] },
              decision: { effect: 'allow', rule: 'notes' },
            },
          }),
        );
        const record = {
          seq,
          time: new Date(start + seq).toISOString(),
          actor: entry.actor,
          identity: entry.identity,
          action: entry.action,
          outcome: entry.outcome,
          summary: entry.summary,
        };
        return { record, plaintext: utf8(entry.details ?? '{}') };
      });
      const sealed = fields.map((f) => keyring.encrypt(f.plaintext, detailsAad(f.record)));
      let prev = head.recordHash;
      const rows: StoredRecord[] = [];
      const checkpoints = [];
      for (const [i, f] of fields.entries()) {
        const row = { ...f.record, details: sealed[i] ?? null, prev_hash: prev };
        const recordHash = computeRecordHash(row);
        rows.push({ ...row, record_hash: recordHash });
        prev = recordHash;
        if (f.record.seq % DEFAULT_CHECKPOINT_EVERY === 0) {
          const unsigned = { seq: f.record.seq, recordHash, time: f.record.time, keyId: keyring.keyId };
          const signature = await keyring.sign(checkpointMessage(unsigned));
          checkpoints.push({
            seq: unsigned.seq,
            record_hash: recordHash,
            time: unsigned.time,
            key_id: keyring.keyId,
            signature,
          });
        }
      }
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await tx
          .insertInto('audit_log')
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .execute();
      }
      if (checkpoints.length > 0) await tx.insertInto('audit_checkpoint').values(checkpoints).execute();
    });
    done += n;
  }
}

/** A vault whose log holds `records` records (at least its own first ones), closed as a real stop. */
async function buildHome(home: string, records: number): Promise<void> {
  const warden = await Warden.init(options(home), passphrase());
  try {
    const head = (await readHead(warden.store.db))?.seq ?? 0;
    await appendBulk(warden.store, warden.vault.auditKeys(), Math.max(0, records - head));
  } finally {
    await warden.close(); // the shutdown checkpoint and the anchor file, as `warden start` leaves them
  }
}

/** Records in the log of the vault in `home` (0 when there is none): a kept home is reused. */
async function recordsIn(home: string): Promise<number> {
  if (!Warden.exists(home)) return 0;
  const store = await openSqliteStore(join(home, 'warden.db'), MODULE_MIGRATIONS);
  try {
    return (await readHead(store.db))?.seq ?? 0;
  } finally {
    await store.close();
  }
}

async function median(runs: number, op: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await op();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

/** `warden start` up to listening: unseal, then the status it prints (the start-up check). */
async function startStage(id: string, name: string, home: string, notes: Record<string, string | number>) {
  const opened: Warden[] = [];
  let audit: Awaited<ReturnType<Warden['status']>>['audit'] | undefined;
  const stage = await measureWall(id, name, RUNS, async () => {
    const warden = await Warden.unseal(options(home), passphrase());
    opened.push(warden);
    audit = (await warden.status()).audit;
  });
  // Closed after timing: a server closes when it stops, not before it is ready.
  for (const w of opened) await w.close();
  if (!audit?.ok) throw new Error(`${id}: the start-up check failed: ${audit?.problem?.message}`);
  return { ...stage, notes: { ...notes, records: audit.records, verifiedFrom: audit.verifiedFrom } };
}

export async function auditStartStages(_options: BenchOptions): Promise<StageResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'warden-bench-audit-'));
  try {
    const long = process.env.BENCH_AUDIT_HOME ?? join(root, 'long');
    const empty = join(root, 'empty');
    const t0 = performance.now();
    const reused = (await recordsIn(long)) >= RECORDS;
    if (!reused) await buildHome(long, RECORDS);
    const buildMs = reused ? 'reused' : Math.round(performance.now() - t0);
    await buildHome(empty, 0);

    const salt = new Uint8Array(16);
    const kdfMs = await median(3, async () => {
      await deriveKeys(passphrase(), { alg: 'argon2id', ...KDF, salt });
    });
    const kdfDefaultMs = await median(3, async () => {
      await deriveKeys(passphrase(), { alg: 'argon2id', ...DEFAULT_KDF, salt });
    });
    const notes = {
      kdfMs: Math.round(kdfMs * 10) / 10,
      kdfDefaultMs: Math.round(kdfDefaultMs),
      kdf: `argon2id ${KDF.memoryKiB} KiB x${KDF.iterations} (default ${DEFAULT_KDF.memoryKiB} KiB x${DEFAULT_KDF.iterations})`,
    };

    const verifier = await Warden.unseal(options(long), passphrase());
    let verified = 0;
    const full = await measureWall(
      'audit.verify_full_1m',
      `full audit verify, ${RECORDS} records`,
      1,
      async () => {
        const result = await verifier.verifyAudit();
        if (!result.ok) throw new Error(`the built log does not verify: ${result.problem?.message}`);
        verified = result.records;
      },
    );
    await verifier.close();
    const fullMs = full.wallMs ?? Number.NaN;
    const verifyFull: StageResult = {
      ...full,
      n: verified,
      opsPerSecond: verified / (fullMs / 1000),
      notes: {
        ...notes,
        records: verified,
        buildMs,
        dbMiB: Math.round(statSync(join(long, 'warden.db')).size / 2 ** 20),
      },
    };

    const start = await startStage(
      'audit.start_1m',
      `start (unseal + start-up check), ${RECORDS} records`,
      long,
      notes,
    );
    const status = await measureWall(
      'audit.status_1m',
      `status (unseal + check + close), ${RECORDS} records`,
      RUNS,
      async () => {
        const warden = await Warden.unseal(options(long), passphrase());
        try {
          const audit = (await warden.status()).audit;
          if (!audit.ok) throw new Error(`status: the start-up check failed: ${audit.problem?.message}`);
        } finally {
          await warden.close();
        }
      },
    );
    const startEmpty = await startStage(
      'audit.start_empty',
      'start (unseal + start-up check), empty log',
      empty,
      notes,
    );
    return [startEmpty, start, { ...status, notes }, verifyFull];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
