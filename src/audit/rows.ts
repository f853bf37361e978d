import type { Db, SyncTx } from '../store/store.ts';
import type { StoredRecord } from './record.ts';

/**
 * Reading audit rows back. Someone with file access may have written anything into the columns
 * (text in a blob column, a float seq), so rows are coerced to the expected shapes here and the
 * hash checks then fail on them, instead of the verifier crashing on a type it did not expect.
 */

export interface StoredCheckpoint {
  id: number;
  seq: number;
  record_hash: Uint8Array;
  time: string;
  key_id: string;
  signature: Uint8Array;
}

const encoder = new TextEncoder();

/** Blobs come back as Buffer from better-sqlite3; a plain Uint8Array view keeps one type everywhere. */
export function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return encoder.encode(value);
  return new Uint8Array(0);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

export function toStoredRecord(row: Record<string, unknown>): StoredRecord {
  return {
    seq: Number(row.seq),
    time: asText(row.time),
    actor: asText(row.actor),
    identity: row.identity === null || row.identity === undefined ? null : asText(row.identity),
    action: asText(row.action),
    outcome: asText(row.outcome),
    summary: asText(row.summary),
    details: row.details === null || row.details === undefined ? null : asBytes(row.details),
    prev_hash: asBytes(row.prev_hash),
    record_hash: asBytes(row.record_hash),
  };
}

export function toStoredCheckpoint(row: Record<string, unknown>): StoredCheckpoint {
  return {
    id: Number(row.id),
    seq: Number(row.seq),
    record_hash: asBytes(row.record_hash),
    time: asText(row.time),
    key_id: asText(row.key_id),
    signature: asBytes(row.signature),
  };
}

/** The newest record (highest seq), or undefined for an empty log. */
export async function readHead(db: Db): Promise<{ seq: number; recordHash: Uint8Array } | undefined> {
  const row = await db
    .selectFrom('audit_log')
    .select(['seq', 'record_hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  return { seq: Number(row.seq), recordHash: asBytes(row.record_hash) };
}

/**
 * The records that succeeded (`ok`) with one of `actions`, after seq `afterSeq` up to `upToSeq`, in
 * seq order: what a follower of the log (the control-plane witness, circuit rotations) has not
 * read yet. Only the new part of the log is scanned, by its primary key.
 */
export async function okRecordsBetween(
  db: Db,
  afterSeq: number,
  upToSeq: number,
  actions: readonly string[],
) {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>', afterSeq)
    .where('seq', '<=', upToSeq)
    .where('action', 'in', actions)
    .where('outcome', '=', 'ok')
    .orderBy('seq')
    .execute();
}

/** The most recently written checkpoint (by insertion id: cheap, and writers insert in seq order). */
export async function readLastCheckpoint(db: Db): Promise<StoredCheckpoint | undefined> {
  const row = await db
    .selectFrom('audit_checkpoint')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toStoredCheckpoint(row as unknown as Record<string, unknown>) : undefined;
}

export type AuditHead = { seq: number; recordHash: Uint8Array };

const HEAD_MEMO = 'audit.head';
const CHECKPOINT_MEMO = 'audit.lastCheckpoint';

/**
 * readHead for a writer inside its transaction (the append path), without a round trip through
 * Kysely; read once per transaction (SyncTx.memo), then kept by `rememberHead`.
 */
export function readHeadSync(sync: SyncTx): AuditHead | undefined {
  if (sync.memo.has(HEAD_MEMO)) return sync.memo.get(HEAD_MEMO) as AuditHead | undefined;
  const row = sync.get<{ seq: unknown; record_hash: unknown }>(
    'SELECT seq, record_hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  const head = row ? { seq: Number(row.seq), recordHash: asBytes(row.record_hash) } : undefined;
  sync.memo.set(HEAD_MEMO, head);
  return head;
}

/** The appender wrote a new head. */
export function rememberHead(sync: SyncTx, head: AuditHead): void {
  sync.memo.set(HEAD_MEMO, head);
}

/** readLastCheckpoint for a writer inside its transaction (checkpoints are written in their own). */
export function readLastCheckpointSync(sync: SyncTx): StoredCheckpoint | undefined {
  if (sync.memo.has(CHECKPOINT_MEMO)) return sync.memo.get(CHECKPOINT_MEMO) as StoredCheckpoint | undefined;
  const row = sync.get<Record<string, unknown>>('SELECT * FROM audit_checkpoint ORDER BY id DESC LIMIT 1');
  const last = row ? toStoredCheckpoint(row) : undefined;
  sync.memo.set(CHECKPOINT_MEMO, last);
  return last;
}
