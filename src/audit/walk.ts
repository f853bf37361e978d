import { wipe } from '../core/bytes.ts';
import type { Db } from '../store/store.ts';
import { checkpointSignatureValid, fromStoredCheckpoint } from './checkpoint-message.ts';
import { classifyBadHash, classifyBadLink, classifyCheckpointMismatch } from './classify.ts';
import { CheckpointCursor, RecordCursor } from './cursor.ts';
import type { AuditKeyring } from './keyring.ts';
import type { Finding } from './problems.ts';
import { finding } from './problems.ts';
import { bytesEqual, detailsAad, GENESIS_HASH, recordHashMatches, type StoredRecord } from './record.ts';
import type { VerifiedMark } from './verified-mark.ts';

/**
 * One pass over the records and the checkpoints together, both in seq order (a merge join): the
 * chain (contiguous seqs, prev_hash links, record hashes), every checkpoint met on the way
 * (signature, and the record it names) and, with a keyring, every record's details. The full
 * verification walks from genesis; the start-up check from the verified mark (verified-mark.ts).
 */

/** Where a walk starts: after this record, whose hash the next record must link to. */
export interface WalkFrom {
  seq: number;
  recordHash: Uint8Array;
}

export const FROM_GENESIS: WalkFrom = { seq: 0, recordHash: GENESIS_HASH };

export interface WalkOptions {
  /** The unsealed vault's audit keyring: every record's details blob must then authenticate. */
  keyring?: AuditKeyring;
  /** With a keyring: a record without a details blob is a forgery too (Warden always writes one). */
  requireDetails?: boolean;
  /**
   * Called every `progressEvery` records and once at the end with the records verified so far and
   * the number expected (the head's seq when the walk began; more if records arrived meanwhile).
   */
  onProgress?: (done: number, total: number) => void;
  /** Default PROGRESS_EVERY: often enough for a line a second, rarely enough to cost nothing. */
  progressEvery?: number;
  /**
   * With a keyring: each record's details that authenticate, opened, before they are wiped (the
   * full verification reads the stored parts they name). Must not keep `plain`.
   */
  onDetails?: (seq: number, plain: Uint8Array) => void;
}

export const PROGRESS_EVERY = 10_000;

export interface WalkState {
  /** Records verified by this walk. */
  records: number;
  authenticated: number;
  checkpoints: number;
  lastCheckpointSeq: number | null;
  /** The last record verified (or the start, before any). */
  lastSeq: number;
  lastHash: Uint8Array;
}

export function startState(from: WalkFrom): WalkState {
  return {
    records: 0,
    authenticated: 0,
    checkpoints: 0,
    lastCheckpointSeq: null,
    lastSeq: from.seq,
    lastHash: from.recordHash,
  };
}

/** The mark a clean walk earns (verified-mark.ts): its last record, and the checkpoints it judged. */
export function reached(state: WalkState, checkpointId: number): VerifiedMark {
  return { seq: state.lastSeq, recordHash: state.lastHash, checkpointId };
}

/**
 * Walks from `from` to the end of the log, judging the checkpoints with id <= maxCheckpointId (those
 * committed before the walk began) that name a seq after `from`. Stops at the first problem.
 */
export async function walk(
  db: Db,
  publicKey: Uint8Array,
  maxCheckpointId: number,
  from: WalkFrom,
  state: WalkState,
  options: WalkOptions & { total?: number },
): Promise<Finding | undefined> {
  const keyring = options.keyring;
  // Each page's details are opened in one batch (one use of the key) before its records are walked.
  const authentic = new WeakMap<StoredRecord, boolean>();
  const authenticatePage = keyring
    ? async (page: readonly StoredRecord[]) => {
        const sealed = page.filter((r) => r.details !== null);
        const opened = await keyring.decryptMany(
          sealed.map((r) => ({ blob: r.details as Uint8Array, aad: detailsAad(r) })),
        );
        sealed.forEach((r, i) => {
          const plain = opened[i];
          authentic.set(r, plain !== null && plain !== undefined);
          if (plain) options.onDetails?.(r.seq, plain);
          wipe(plain);
        });
      }
    : undefined;
  // From genesis every row is read, even a stray seq below 1, so that it is reported.
  const records = new RecordCursor(db, from.seq === 0 ? undefined : from.seq, authenticatePage);
  const checkpoints = new CheckpointCursor(db, maxCheckpointId, from.seq === 0 ? undefined : from.seq);
  let lastGoodCheckpointSeq = from.seq;
  const every = Math.max(1, options.progressEvery ?? PROGRESS_EVERY);
  const progress = (): void => {
    options.onProgress?.(from.seq + state.records, Math.max(options.total ?? 0, from.seq + state.records));
  };

  for (let record = await records.next(); record !== undefined; record = await records.next()) {
    const s = record.seq;
    const expected = state.lastSeq + 1;
    if (s < expected) {
      // Unreachable with seq as primary key and ordered reads; kept for backends without that guarantee.
      return finding(
        'AUDIT_RECORD_REORDERED',
        `record ${s} appears out of order (after ${state.lastSeq})`,
        s,
      );
    }
    if (!recordHashMatches(record)) return classifyBadHash(db, record, expected, await records.peek());
    if (s > expected) {
      const linked = bytesEqual(record.prev_hash, state.lastHash);
      return finding(
        'AUDIT_RECORD_MISSING',
        linked
          ? `record(s) ${expected}..${s - 1} are missing (record ${s} was re-linked over the gap)`
          : `record(s) ${expected}..${s - 1} are missing`,
        expected,
      );
    }
    if (!bytesEqual(record.prev_hash, state.lastHash)) {
      return classifyBadLink(record, state.lastSeq, state.lastHash, await records.peek());
    }
    if (keyring) {
      const forged = judgeDetails(record, authentic.get(record), options.requireDetails === true);
      if (forged) return forged;
      if (record.details !== null) state.authenticated++;
    }

    // Checkpoints that name this seq (or, if malformed, an earlier one) are judged now.
    for (let cp = await checkpoints.peek(); cp !== undefined && cp.seq <= s; cp = await checkpoints.peek()) {
      await checkpoints.next();
      const checkpoint = fromStoredCheckpoint(cp);
      if (!checkpointSignatureValid(publicKey, checkpoint)) {
        return finding(
          'AUDIT_CHECKPOINT_INVALID',
          `the checkpoint at seq ${cp.seq} has an invalid signature`,
          cp.seq,
        );
      }
      if (cp.seq !== s) {
        return finding(
          'AUDIT_CHECKPOINT_INVALID',
          `a checkpoint names seq ${cp.seq}, which no record has`,
          cp.seq,
        );
      }
      if (!bytesEqual(cp.record_hash, record.record_hash)) {
        return classifyCheckpointMismatch(db, s, cp.record_hash, lastGoodCheckpointSeq);
      }
      lastGoodCheckpointSeq = s;
      state.checkpoints++;
      state.lastCheckpointSeq = s;
    }

    state.lastHash = record.record_hash;
    state.lastSeq = s;
    state.records++;
    if (state.records % every === 0) progress();
  }
  progress();

  // Checkpoints left over name records past the end of the log.
  const beyond = await checkpoints.next();
  if (beyond !== undefined) {
    if (!checkpointSignatureValid(publicKey, fromStoredCheckpoint(beyond))) {
      return finding(
        'AUDIT_CHECKPOINT_INVALID',
        `the checkpoint at seq ${beyond.seq} has an invalid signature`,
        beyond.seq,
      );
    }
    return finding(
      'AUDIT_TRUNCATED',
      `a signed checkpoint names record ${beyond.seq} but the log ends at ${state.lastSeq}: the newest records were deleted`,
      state.lastSeq + 1,
    );
  }
  return undefined;
}

/**
 * The details blob is an AEAD under the vault's audit key with the record's clear fields as
 * associated data, so it doubles as a MAC over the record: without the key nobody can write one
 * that opens, whatever they do to the chain. `opened`: whether its blob authenticated.
 */
function judgeDetails(
  record: StoredRecord,
  opened: boolean | undefined,
  requireDetails: boolean,
): Finding | undefined {
  if (record.details === null) {
    return requireDetails
      ? finding(
          'AUDIT_RECORD_FORGED',
          `record ${record.seq} has no details blob, which every record this vault writes has`,
          record.seq,
        )
      : undefined;
  }
  if (opened === true) return undefined;
  return finding(
    'AUDIT_RECORD_FORGED',
    `record ${record.seq} does not authenticate under the vault's audit key: it was written or altered without that key`,
    record.seq,
  );
}
