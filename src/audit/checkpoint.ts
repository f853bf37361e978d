import type { Clock } from '../core/clock.ts';
import { isWardenError, WardenError } from '../core/errors.ts';
import type { Db, Store } from '../store/store.ts';
import { writeAnchorFile } from './anchor.ts';
import {
  type AuditCheckpoint,
  checkpointMessage,
  checkpointSignatureValid,
  fromStoredCheckpoint,
} from './checkpoint-message.ts';
import type { AuditKeyring } from './keyring.ts';
import { bytesEqual } from './record.ts';
import { readHead, readLastCheckpoint } from './rows.ts';
import type { TailVerifier } from './tail-verifier.ts';
import { recordVerifiedMark, type VerifiedMark } from './verified-mark.ts';
import { earnedMark } from './verify-tail.ts';

export type { AuditCheckpoint } from './checkpoint-message.ts';
export {
  CHECKPOINT_VERSION,
  checkpointMessage,
  checkpointSignatureValid,
  fromStoredCheckpoint,
} from './checkpoint-message.ts';

/**
 * Signed checkpoints. The hash chain alone proves order and integrity, but anyone with the file can
 * rebuild a chain. A checkpoint signs (seq, record_hash) of the head with the vault's key, so a
 * rewrite or truncation of everything up to that seq is detectable without trusting the database.
 */

export const DEFAULT_CHECKPOINT_EVERY = 100;

export interface WriteCheckpointResult {
  checkpoint: AuditCheckpoint;
  /** False when a valid checkpoint already covered the head (nothing was signed). */
  created: boolean;
}

/**
 * Signs a checkpoint of the current head, unless a valid one already covers it; returns null for an
 * empty log. Called every `checkpointEvery` records (see appendAudit) and at shutdown, so the records
 * after the last periodic checkpoint are covered too.
 *
 * With `headFile`, the covering checkpoint is then written to the anchor file, after the commit, so
 * the file never names a checkpoint that a failed commit dropped. The anchor file is refreshed even
 * when nothing new was signed: that repairs an anchor lost to a crash between commit and write.
 * In the same transaction, the verified mark moves up to the head if the records since it verify:
 * walked by `tails` on its worker thread when given (a running server), else on this thread.
 */
export async function writeCheckpoint(
  store: Store,
  keyring: AuditKeyring,
  clock: Clock,
  headFile?: string,
  tails?: TailVerifier,
): Promise<WriteCheckpointResult | null> {
  try {
    const result = await checkpointHead(store, keyring, clock, tails);
    if (result && headFile !== undefined) await writeAnchorFile(headFile, result.checkpoint);
    return result;
  } catch (cause) {
    if (isWardenError(cause, 'AUDIT_APPEND_FAILED')) throw cause;
    throw new WardenError(
      'AUDIT_APPEND_FAILED',
      'the audit checkpoint could not be written',
      { stage: 'checkpoint', reason: isWardenError(cause) ? cause.code : 'STORE_ERROR' },
      { cause },
    );
  }
}

/** Databases whose mark a checkpoint writer of this process is walking for (checkpointHead). */
const walking = new WeakSet<Db>();

/**
 * The signing transaction, with the walk for the mark before it (a walk of a few hundred records
 * should not hold the write lock). Under load checkpoints come in bursts (each append stays due
 * until one commits): one writer at a time per database walks, until its transaction has recorded
 * the mark; the others sign without moving it, and the next walk starts from where it got to.
 */
async function checkpointHead(
  store: Store,
  keyring: AuditKeyring,
  clock: Clock,
  tails: TailVerifier | undefined,
): Promise<WriteCheckpointResult | null> {
  if (walking.has(store.db)) return signHead(store, keyring, clock, null);
  walking.add(store.db);
  try {
    return await signHead(store, keyring, clock, await earnedMarkQuietly(store, keyring, tails));
  } finally {
    walking.delete(store.db);
  }
}

/** Signs the head unless a valid checkpoint covers it, recording `earned` in the same transaction. */
function signHead(
  store: Store,
  keyring: AuditKeyring,
  clock: Clock,
  earned: VerifiedMark | null,
): Promise<WriteCheckpointResult | null> {
  return store.transaction(async (tx): Promise<WriteCheckpointResult | null> => {
    const head = await readHead(tx);
    if (!head) return null;
    const last = await readLastCheckpoint(tx);
    if (last && last.seq === head.seq && bytesEqual(last.record_hash, head.recordHash)) {
      const existing = fromStoredCheckpoint(last);
      // Only a checkpoint we can verify counts as covering the head; a planted row does not.
      if (checkpointSignatureValid(keyring.publicKey, existing)) {
        if (earned) await recordVerifiedMark(tx, keyring, earned);
        return { checkpoint: existing, created: false };
      }
    }
    const unsigned = {
      seq: head.seq,
      recordHash: head.recordHash,
      time: clock.now().toISOString(),
      keyId: keyring.keyId,
    };
    const signature = await keyring.sign(checkpointMessage(unsigned));
    const inserted = await tx
      .insertInto('audit_checkpoint')
      .values({
        seq: unsigned.seq,
        record_hash: unsigned.recordHash,
        time: unsigned.time,
        key_id: unsigned.keyId,
        signature,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (earned) {
      // The mark may count this checkpoint as judged (just signed over the head read here),
      // unless another was committed since the walk: that one was not judged.
      const judged = (last?.id ?? 0) === earned.checkpointId ? Number(inserted.id) : earned.checkpointId;
      await recordVerifiedMark(tx, keyring, { ...earned, checkpointId: judged });
    }
    return { checkpoint: { ...unsigned, signature }, created: true };
  });
}

/**
 * The verified mark this checkpoint's writer can move to (verify-tail.ts): the records since the
 * mark, walked, so that the next start-up check reads only what comes after. An optimisation, so
 * it never fails the checkpoint: when it cannot (too far behind, a problem found, a store error),
 * the mark stays where it was and the next start-up check reads more, and reports what it finds.
 */
async function earnedMarkQuietly(
  store: Store,
  keyring: AuditKeyring,
  tails: TailVerifier | undefined,
): Promise<VerifiedMark | null> {
  try {
    return await (tails ? tails.earnedMark(store.db, keyring) : earnedMark(store.db, keyring));
  } catch {
    return null;
  }
}
