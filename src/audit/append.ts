import { utf8, wipe } from '../core/bytes.ts';
import type { Clock } from '../core/clock.ts';
import { isWardenError, WardenError } from '../core/errors.ts';
import type { Store, SyncTx } from '../store/store.ts';
import type { AuditCheckpoint } from './checkpoint.ts';
import { DEFAULT_CHECKPOINT_EVERY, writeCheckpoint } from './checkpoint.ts';
import type { AuditEntry } from './entry.ts';
import { validateEntry } from './entry.ts';
import type { AuditKeyring } from './keyring.ts';
import { computeRecordHash, detailsAad, GENESIS_HASH } from './record.ts';
import { readHeadSync, readLastCheckpointSync, rememberHead } from './rows.ts';

export interface AppendOptions {
  /** A checkpoint is due once this many records follow the last one. Default 100. */
  checkpointEvery?: number;
  /** Anchor file kept outside the database (e.g. `<home>/audit-head.json`), updated with each checkpoint. */
  headFile?: string;
}

export interface AppendResult {
  seq: number;
  recordHash: Uint8Array;
  /** True when `checkpointEvery` records or more are not yet covered by a checkpoint. */
  checkpointDue: boolean;
}

export interface AppendAuditResult extends AppendResult {
  /** The checkpoint written after this record, when one was due and a keyring was given. */
  checkpoint: AuditCheckpoint | null;
  /**
   * Set when a due checkpoint could not be written. The record itself is committed, so this does
   * not fail the append; `checkpointDue` stays true and the next append or close retries.
   */
  checkpointError?: WardenError;
}

/** Every failure becomes AUDIT_APPEND_FAILED: callers fail closed on that one code. */
function appendFailed(cause: unknown): WardenError {
  if (isWardenError(cause, 'AUDIT_APPEND_FAILED')) return cause;
  const reason = isWardenError(cause) ? cause.code : 'STORE_ERROR';
  return new WardenError(
    'AUDIT_APPEND_FAILED',
    'the audit record could not be written',
    { reason },
    { cause },
  );
}

function checkEvery(every: number | undefined): number {
  const n = every ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new WardenError('INVALID_ARGUMENT', 'checkpointEvery must be a positive integer');
  }
  return n;
}

/**
 * Appends one record inside a transaction the caller already holds (the ledger reserves and audits
 * in one transaction). The transaction must be an exclusive write transaction (`store.transaction`):
 * reading the head and inserting the next seq must not interleave with another writer.
 *
 * It never writes a checkpoint itself: the caller's transaction may still roll back, and a checkpoint
 * (or anchor file) naming a record that was rolled back would look like truncation. It reports
 * `checkpointDue` instead, and the caller runs `writeCheckpoint` after its commit.
 */
export function appendAuditInTx(
  sync: SyncTx,
  keyring: AuditKeyring | null,
  entry: AuditEntry,
  clock: Clock,
  options: Pick<AppendOptions, 'checkpointEvery'> = {},
): AppendResult {
  try {
    const every = checkEvery(options.checkpointEvery);
    const valid = validateEntry(entry);
    if (valid.details !== null && keyring === null) {
      // Details are never stored in clear: without the keyring they cannot be written at all.
      throw new WardenError('VAULT_SEALED', 'audit details need the unsealed vault');
    }
    const now = clock.now();
    if (Number.isNaN(now.getTime()))
      throw new WardenError('INVALID_ARGUMENT', 'the clock returned an invalid date');
    const time = now.toISOString();
    const head = readHeadSync(sync);
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.recordHash ?? GENESIS_HASH;
    const fields = {
      seq,
      time,
      actor: valid.actor,
      identity: valid.identity,
      action: valid.action,
      outcome: valid.outcome,
      summary: valid.summary,
    };
    let details: Uint8Array | null = null;
    if (valid.details !== null && keyring !== null) {
      const plain = utf8(valid.details);
      try {
        details = keyring.encrypt(plain, detailsAad(fields));
      } finally {
        wipe(plain); // the string itself can't be wiped; at least this copy goes
      }
    }
    const recordHash = computeRecordHash({ ...fields, details, prev_hash: prevHash });
    sync.run(
      'INSERT INTO audit_log (seq, time, actor, identity, action, outcome, summary, details, prev_hash, record_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        seq,
        time,
        fields.actor,
        fields.identity,
        fields.action,
        fields.outcome,
        fields.summary,
        details,
        prevHash,
        recordHash,
      ],
    );
    rememberHead(sync, { seq, recordHash });
    const last = readLastCheckpointSync(sync);
    // A checkpoint past the head is nonsense (verify reports it); writing a fresh one is the safe side.
    const covered = last?.seq ?? 0;
    const checkpointDue = covered > seq || seq - covered >= every;
    return { seq, recordHash, checkpointDue };
  } catch (err) {
    throw appendFailed(err);
  }
}

/**
 * Appends one record in its own transaction. Checkpoint policy: when a checkpoint is due and a
 * keyring is given, it is written right after the commit (its own transaction, then the anchor file).
 * When sealed (`keyring` null) it stays due and is reported; callers write one on unseal and on close.
 */
export async function appendAudit(
  store: Store,
  keyring: AuditKeyring | null,
  entry: AuditEntry,
  clock: Clock,
  options: AppendOptions = {},
): Promise<AppendAuditResult> {
  let result: AppendResult;
  try {
    result = await store.transaction(async (tx) => appendAuditInTx(tx.sync, keyring, entry, clock, options));
  } catch (err) {
    throw appendFailed(err);
  }
  if (!result.checkpointDue || keyring === null) return { ...result, checkpoint: null };
  try {
    const written = await writeCheckpoint(store, keyring, clock, options.headFile);
    return { ...result, checkpointDue: false, checkpoint: written?.checkpoint ?? null };
  } catch (err) {
    const checkpointError = isWardenError(err) ? err : appendFailed(err);
    return { ...result, checkpoint: null, checkpointError };
  }
}

/**
 * Audit or refuse: the record is committed first and only then does `effect` run. If the append
 * throws (AUDIT_APPEND_FAILED), `effect` is never called.
 */
export async function audited<T>(
  store: Store,
  keyring: AuditKeyring | null,
  entry: AuditEntry,
  clock: Clock,
  effect: () => T | Promise<T>,
  options: AppendOptions = {},
): Promise<T> {
  await appendAudit(store, keyring, entry, clock, options);
  return effect();
}
