import { asWardenError } from '../core/errors.ts';
import type { ControlPlaneMac } from '../keys/control-plane-key.ts';
import type { Db, Store } from '../store/store.ts';
import { checkpointHorizon, readAnchorSafely } from './anchor-check.ts';
import { checkpointSignatureValid, fromStoredCheckpoint } from './checkpoint-message.ts';
import { readRecordAt } from './classify.ts';
import { checkControlPlane } from './control-plane.ts';
import type { AuditKeyring } from './keyring.ts';
import type { Finding } from './problems.ts';
import { finding } from './problems.ts';
import { bytesEqual, recordHashMatches } from './record.ts';
import { readHead, toStoredCheckpoint } from './rows.ts';
import {
  type MarkRead,
  markContradiction,
  readVerifiedMark,
  type VerifiedMark,
  writeVerifiedMark,
} from './verified-mark.ts';
import { type VerifyResult, verdict } from './verify.ts';
import { FROM_GENESIS, reached, startState, type WalkFrom, type WalkState, walk } from './walk.ts';

/**
 * The start-up check (`warden start`, `warden status`): the log from the verified mark
 * (verified-mark.ts) to the head, so its cost follows what was appended since the last
 * verification, not the length of the log. Unsealed only: the mark is authenticated with the
 * vault's key. A passing check guarantees:
 *
 * - records after the mark: all that the full verification checks (contiguous seqs, links, record
 *   hashes, details authenticate under the audit key, every checkpoint naming one of them is
 *   validly signed and matches);
 * - the mark authenticates, and record `mark.seq` still hashes to what was verified: no rewrite of
 *   the chain through it, no truncation below it, no checkpoint it judged deleted;
 * - every checkpoint committed since the mark, and the newest one, is validly signed and names a
 *   record that is there, hashes correctly and has the signed hash (this catches an edit of that
 *   record, before the mark too);
 * - the anchor file, as in the full verification: tail truncation, a removed newest checkpoint;
 * - seqs 1..head are all there (counted, not read): a record deleted without renumbering.
 *
 * It does not read records before the mark, nor open their details. An edit there that leaves the
 * marked and checkpointed records alone (a clear column or details blob changed, one link broken,
 * a deletion with renumbering) is found only by `warden audit verify` (verify.ts), which checks
 * everything again. With no mark yet (a log from before marks), it walks from genesis once.
 */
export async function verifyAuditTail(
  store: Store,
  keyring: AuditKeyring,
  headFilePath?: string,
  options: { controlPlane?: ControlPlaneMac } = {},
): Promise<VerifyResult> {
  try {
    const anchor = headFilePath === undefined ? undefined : await readAnchorSafely(headFilePath);
    const maxCheckpointId = await checkpointHorizon(store.db);
    const mark = await readVerifiedMark(store.db, keyring);
    const { from, state, bad } = await checkTail(store.db, keyring, maxCheckpointId, mark);
    const controlPlane = options.controlPlane
      ? await checkControlPlane(store.db, options.controlPlane)
      : null;
    const result = await verdict(
      store,
      keyring.publicKey,
      anchor,
      maxCheckpointId,
      state,
      bad ?? (await checkAllPresent(store.db)),
      {
        records: state.lastSeq,
        checkpoints: state.checkpoints,
        lastCheckpointSeq: state.lastCheckpointSeq,
        verifiedFrom: from.seq,
        authenticated: state.authenticated,
        controlPlane,
      },
    );
    if (result.ok) await writeVerifiedMark(store, keyring, reached(state, maxCheckpointId));
    return controlPlane && controlPlane.length > 0 ? { ...result, ok: false } : result;
  } catch (err) {
    throw asWardenError(err, 'STORE_ERROR');
  }
}

/**
 * How far behind the mark may be for a checkpoint's writer to walk after it (earnedMark): above
 * what a busy server appends between two checkpoints (gateway/pipeline.ts spaces them by a second;
 * about 2,000 records at its peak here), or the mark would stop following the log under load.
 */
export const ADVANCE_LIMIT = 10_000;

/**
 * The walk a checkpoint's writer runs (checkpoint.ts) so the mark keeps up with the log: the
 * records since the mark, checked as the start-up check checks them. Returns the mark they earn,
 * for the writer to record in its checkpoint's transaction, or null: nothing new, more than
 * `limit` records behind (a log from before marks: left to the next start-up check), an invalid
 * mark (left for that check to report), or a problem found (likewise).
 *
 * Runs on the tail worker too (tail-verifier.ts), where an opened blob is zeros of its length: it
 * must read of an opened blob only whether it opened, and its length.
 */
export async function earnedMark(
  db: Db,
  keyring: AuditKeyring,
  limit = ADVANCE_LIMIT,
): Promise<VerifiedMark | null> {
  const mark = await readVerifiedMark(db, keyring);
  if (mark.kind === 'invalid') return null;
  const fromSeq = mark.kind === 'ok' ? mark.mark.seq : 0;
  const head = await readHead(db);
  if (!head || head.seq <= fromSeq || head.seq - fromSeq > limit) return null;
  const maxCheckpointId = await checkpointHorizon(db);
  // The newest checkpoint is the writer's own previous one, or one the walk or the next start meets.
  const { state, bad } = await checkTail(db, keyring, maxCheckpointId, mark, false);
  return bad ? null : reached(state, maxCheckpointId);
}

interface Tail {
  from: WalkFrom;
  state: WalkState;
  bad: Finding | undefined;
}

/**
 * The mark and the record it names, the walk after it, then the checkpoints the walk did not meet
 * (with `newest`, the newest checkpoint too, whenever it was written: someone may have replaced it).
 */
async function checkTail(
  db: Db,
  keyring: AuditKeyring,
  maxCheckpointId: number,
  read: MarkRead,
  newest = true,
): Promise<Tail> {
  if (read.kind === 'invalid') {
    return {
      from: FROM_GENESIS,
      state: startState(FROM_GENESIS),
      bad: finding('AUDIT_MARK_INVALID', `${read.reason}; \`warden audit verify\` checks the whole log`),
    };
  }
  const mark = read.kind === 'ok' ? read.mark : undefined;
  const from: WalkFrom = mark ?? FROM_GENESIS;
  const state = startState(from);
  const publicKey = keyring.publicKey;
  const bad =
    (mark && markContradiction(mark, (await readHead(db))?.seq ?? 0, maxCheckpointId)) ||
    (mark && (await checkRecordAt(db, mark.seq, mark.recordHash, 'the verified mark'))) ||
    (await walk(db, publicKey, maxCheckpointId, from, state, { keyring, requireDetails: true })) ||
    (await checkEarlierCheckpoints(
      db,
      publicKey,
      mark?.checkpointId ?? 0,
      from.seq,
      maxCheckpointId,
      newest ? maxCheckpointId : 0,
      state,
    ));
  return { from, state, bad: bad || undefined };
}

/**
 * Checkpoints naming a record up to the mark, which the walk did not meet: those committed since
 * the mark was written (id above its horizon) and the one with id `alsoId` (the newest, or 0).
 * Each must be validly signed and name a record that is there with that hash. Normally one or none.
 */
async function checkEarlierCheckpoints(
  db: Db,
  publicKey: Uint8Array,
  markedCheckpointId: number,
  upToSeq: number,
  maxCheckpointId: number,
  alsoId: number,
  state: WalkState,
): Promise<Finding | undefined> {
  const rows = await db
    .selectFrom('audit_checkpoint')
    .selectAll()
    .where('id', '<=', maxCheckpointId)
    .where('seq', '<=', upToSeq)
    .where((eb) => eb.or([eb('id', '>', markedCheckpointId), eb('id', '=', alsoId)]))
    .orderBy('id')
    .execute();
  for (const row of rows) {
    const cp = toStoredCheckpoint(row as unknown as Record<string, unknown>);
    if (!checkpointSignatureValid(publicKey, fromStoredCheckpoint(cp))) {
      return finding(
        'AUDIT_CHECKPOINT_INVALID',
        `the checkpoint at seq ${cp.seq} has an invalid signature`,
        cp.seq,
      );
    }
    const bad = await checkRecordAt(db, cp.seq, cp.record_hash, 'its signed checkpoint');
    if (bad) return bad;
    state.checkpoints++;
    state.lastCheckpointSeq = Math.max(state.lastCheckpointSeq ?? 0, cp.seq);
  }
  return undefined;
}

/** Record `seq` is there, hashes correctly, and has `hash` (what the mark or a checkpoint names). */
async function checkRecordAt(
  db: Db,
  seq: number,
  hash: Uint8Array,
  namedBy: string,
): Promise<Finding | undefined> {
  const record = await readRecordAt(db, seq);
  if (record === undefined) {
    const end = (await readHead(db))?.seq ?? 0;
    return end < seq
      ? finding(
          'AUDIT_TRUNCATED',
          `${namedBy} names record ${seq} but the log ends at ${end}: the newest records were deleted`,
          end + 1,
        )
      : finding('AUDIT_RECORD_MISSING', `record ${seq}, which ${namedBy} names, is missing`, seq);
  }
  if (!recordHashMatches(record)) {
    return finding(
      'AUDIT_RECORD_MODIFIED',
      `record ${seq} does not match its hash: its content was changed`,
      seq,
    );
  }
  if (!bytesEqual(record.record_hash, hash)) {
    // It hashes correctly, so the chain was rebuilt through it from some earlier record on.
    return finding(
      'AUDIT_RECORD_MODIFIED',
      `record ${seq} is not the one ${namedBy} names: records up to it were rewritten (\`warden audit verify\` names the first)`,
    );
  }
  return undefined;
}

/**
 * Seqs 1..head all present, counted over an index (no record is read): catches records deleted
 * before the mark without renumbering the rest, which the walk after the mark cannot see. Three
 * cheap reads, not one aggregate (SQLite counts a table fast only when counting is all it does),
 * the head first: records appended in between then raise the count, never fake a gap.
 */
async function checkAllPresent(db: Db): Promise<Finding | undefined> {
  const hi = (await readHead(db))?.seq ?? 0;
  if (hi === 0) return undefined;
  const counted = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  const n = Number(counted?.n ?? 0);
  const first = await db
    .selectFrom('audit_log')
    .select('seq')
    .orderBy('seq', 'asc')
    .limit(1)
    .executeTakeFirst();
  const lo = Number(first?.seq ?? 1);
  if (lo < 1) return finding('AUDIT_RECORD_REORDERED', `a record sits at seq ${lo}, before the first`, lo);
  if (lo > 1) return finding('AUDIT_RECORD_MISSING', `record(s) 1..${lo - 1} are missing`, 1);
  if (n >= hi) return undefined;
  return finding(
    'AUDIT_RECORD_MISSING',
    `${hi - n} record(s) before seq ${hi} are missing (\`warden audit verify\` names them)`,
  );
}
