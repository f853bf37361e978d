import type { Db } from '../store/store.ts';
import type { Finding } from './problems.ts';
import { finding } from './problems.ts';
import type { StoredRecord } from './record.ts';
import { bytesEqual, GENESIS_HASH, recordHashMatches } from './record.ts';
import { toStoredRecord } from './rows.ts';

/**
 * Naming what happened at the first break in the chain. The chain only says "something is wrong
 * here"; these functions use two facts to say what:
 *
 * - seq is inside every record's hash. A record that was only moved (renumbered, swapped) still
 *   hashes correctly at its original seq, so trying nearby seqs finds where it came from. An edited
 *   record hashes at no seq.
 * - prev_hash names the record before it. If that record still exists somewhere, the record was
 *   moved rather than its predecessors deleted.
 *
 * Insertion: seq is the primary key, so a forged record can't sit beside a genuine one with the same
 * seq. Inserting in the middle means pushing later records up; the first pushed record then hashes
 * at a lower seq than where it sits, while a different record occupies that seq: AUDIT_RECORD_INSERTED
 * at the forged record's seq. A forged record appended after the last checkpoint with a correct
 * chain can't be told from a genuine one: only checkpoints (and the anchor file) pin the head.
 *
 * These lookups scan the table, which is fine: they run once, at the first break.
 */

/** How far from its current seq a moved record is looked for, when its predecessor can't tell. */
export const MOVE_SEARCH_WINDOW = 1000;

export async function findSeqByHash(db: Db, hash: Uint8Array): Promise<number | undefined> {
  const row = await db
    .selectFrom('audit_log')
    .select('seq')
    .where('record_hash', '=', hash)
    .orderBy('seq', 'asc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.seq);
}

export async function readRecordAt(db: Db, seq: number): Promise<StoredRecord | undefined> {
  const row = await db.selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirst();
  return row === undefined ? undefined : toStoredRecord(row as unknown as Record<string, unknown>);
}

/** The seq at which this record hashes correctly, other than where it sits; undefined if none found. */
async function findOriginalSeq(db: Db, record: StoredRecord): Promise<number | undefined> {
  const tried = new Set<number>([record.seq]);
  const tryAt = (t: number): boolean => {
    if (t < 1 || tried.has(t)) return false;
    tried.add(t);
    return recordHashMatches(record, t);
  };
  // First guess: right after the record its prev_hash names (finds far moves in one step).
  if (bytesEqual(record.prev_hash, GENESIS_HASH)) {
    if (tryAt(1)) return 1;
  } else {
    const before = await findSeqByHash(db, record.prev_hash);
    if (before !== undefined && tryAt(before + 1)) return before + 1;
  }
  // Its predecessor moved too (or is gone): search outward, nearest first.
  for (let d = 1; d <= MOVE_SEARCH_WINDOW; d++) {
    if (tryAt(record.seq - d)) return record.seq - d;
    if (tryAt(record.seq + d)) return record.seq + d;
  }
  return undefined;
}

/**
 * `record` (at seq s) does not hash at s. `expected` is the seq that should have come next (all records
 * before it verified); `next` is the record after it, if any.
 */
export async function classifyBadHash(
  db: Db,
  record: StoredRecord,
  expected: number,
  next: StoredRecord | undefined,
): Promise<Finding> {
  const s = record.seq;
  const t = await findOriginalSeq(db, record);
  if (t === undefined) {
    // A forged record with a plain wrong hash, and the genuine one pushed up behind it?
    if (next !== undefined && next.seq === s + 1 && recordHashMatches(next, s)) {
      return finding(
        'AUDIT_RECORD_INSERTED',
        `record ${s} is not part of the chain: the record now at ${s + 1} belongs at ${s} (later records were renumbered)`,
        s,
      );
    }
    return finding(
      'AUDIT_RECORD_MODIFIED',
      `record ${s} does not match its hash: its content was changed`,
      s,
    );
  }
  if (t < s) {
    const occupant = t < expected ? await readRecordAt(db, t) : undefined;
    if (occupant !== undefined && bytesEqual(occupant.record_hash, record.record_hash)) {
      return finding('AUDIT_RECORD_REORDERED', `record ${s} is a copy of record ${t}`, s);
    }
    if (occupant !== undefined) {
      return finding(
        'AUDIT_RECORD_INSERTED',
        `record(s) ${t}..${s - 1} were inserted: the record that belongs at ${t} now sits at ${s}`,
        t,
      );
    }
    return finding('AUDIT_RECORD_REORDERED', `record ${s} belongs at seq ${t}`, Math.min(expected, s));
  }
  // t > s: it belongs later. Moved here from later, or the records between were deleted and renumbered?
  const predecessorExists = (await findSeqByHash(db, record.prev_hash)) !== undefined;
  if (predecessorExists) {
    return finding('AUDIT_RECORD_REORDERED', `record ${s} holds the record that belongs at seq ${t}`, s);
  }
  return finding(
    'AUDIT_RECORD_MISSING',
    `record(s) ${expected}..${t - 1} are missing; later records were renumbered to close the gap`,
    expected,
  );
}

/**
 * `record` (at seq s = prevSeq + 1) hashes correctly but its prev_hash is not the hash of record prevSeq.
 */
export function classifyBadLink(
  record: StoredRecord,
  prevSeq: number,
  prevHash: Uint8Array,
  next: StoredRecord | undefined,
): Finding {
  const s = record.seq;
  // The next record skips over this one (links to prevSeq, or was renumbered from s): this one was inserted.
  if (
    next !== undefined &&
    next.seq === s + 1 &&
    (bytesEqual(next.prev_hash, prevHash) || recordHashMatches(next, s))
  ) {
    return finding(
      'AUDIT_RECORD_INSERTED',
      `record ${s} is not part of the chain: record ${s + 1} follows record ${prevSeq}`,
      s,
    );
  }
  if (prevSeq === 0) {
    return finding(
      'AUDIT_RECORD_MODIFIED',
      'record 1 does not start from the genesis hash: it was rewritten',
      s,
    );
  }
  // Record prevSeq was edited and re-hashed: its hash is no longer the one its successor recorded.
  return finding(
    'AUDIT_RECORD_MODIFIED',
    `record ${s} does not link to record ${prevSeq}: record ${prevSeq} was rewritten (or record ${s} forged)`,
    prevSeq,
  );
}

/**
 * The chain verified up to `seq`, yet record `seq` differs from what the checkpoint signed. Either the
 * log was rewritten and re-chained since the last good checkpoint, or records were inserted just
 * before the checkpointed one: then the signed record still exists, pushed to a later seq.
 */
export async function classifyCheckpointMismatch(
  db: Db,
  seq: number,
  signedHash: Uint8Array,
  lastGoodCheckpointSeq: number,
): Promise<Finding> {
  const movedTo = await findSeqByHash(db, signedHash);
  if (movedTo !== undefined && movedTo > seq) {
    const inserted = movedTo - seq;
    const from = Math.max(lastGoodCheckpointSeq + 1, seq - inserted + 1);
    return finding(
      'AUDIT_RECORD_INSERTED',
      `the record signed at seq ${seq} now sits at ${movedTo}: ${inserted} record(s) were inserted before it`,
      from,
    );
  }
  const from = lastGoodCheckpointSeq + 1;
  return finding(
    'AUDIT_RECORD_MODIFIED',
    `record ${seq} does not match its signed checkpoint: records ${from}..${seq} were rewritten`,
    from,
  );
}
