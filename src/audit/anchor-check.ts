import type { Db } from '../store/store.ts';
import type { AnchorRead } from './anchor.ts';
import { readAnchorFile } from './anchor.ts';
import type { AuditCheckpoint } from './checkpoint-message.ts';
import { checkpointSignatureValid } from './checkpoint-message.ts';
import { readRecordAt } from './classify.ts';
import type { AuditWarning, Finding } from './problems.ts';
import { finding } from './problems.ts';
import { bytesEqual } from './record.ts';
import { asBytes } from './rows.ts';

/**
 * The anchor file's part of a verification, the same for the full one and the start-up check:
 * read it before fixing the checkpoint horizon, judge it once the chain is walked.
 */

export async function readAnchorSafely(path: string): Promise<AnchorRead> {
  try {
    return await readAnchorFile(path);
  } catch {
    return { kind: 'invalid', reason: 'the anchor file cannot be read' };
  }
}

/**
 * The highest checkpoint id now: only checkpoints up to it are judged. Read after the anchor file,
 * which is written after its checkpoint commits, so the anchor's checkpoint is inside the horizon;
 * and a checkpoint committed during the walk could name a record past where the walk ended.
 */
export async function checkpointHorizon(db: Db): Promise<number> {
  const row = await db
    .selectFrom('audit_checkpoint')
    .select((eb) => eb.fn.max('id').as('maxId'))
    .executeTakeFirst();
  return Number(row?.maxId ?? 0);
}

export type AnchorVerdict =
  | { anchor: 'not-configured' | 'verified'; warnings: AuditWarning[] }
  | { anchor: 'missing'; warnings: AuditWarning[] }
  | { anchor: 'failed'; bad: Finding };

/**
 * The anchor after a clean walk to `lastSeq`. A missing file is a warning, not a failure, unless
 * nothing ever wrote one: `hasCheckpoints` says whether there is a checkpoint it would name.
 */
export async function judgeAnchor(
  db: Db,
  publicKey: Uint8Array,
  anchor: AnchorRead | undefined,
  lastSeq: number,
  hasCheckpoints: boolean,
): Promise<AnchorVerdict> {
  if (anchor === undefined) return { anchor: 'not-configured', warnings: [] };
  if (anchor.kind === 'missing') {
    const warnings: AuditWarning[] = hasCheckpoints
      ? [
          {
            code: 'AUDIT_ANCHOR_MISSING',
            message: 'the anchor file is missing: truncation of the newest records cannot be ruled out',
          },
        ]
      : [];
    return { anchor: 'missing', warnings };
  }
  const bad = await checkAnchor(db, publicKey, anchor, lastSeq);
  return bad ? { anchor: 'failed', bad } : { anchor: 'verified', warnings: [] };
}

/** The anchor must be validly signed, name a record that exists with that hash, and match a DB checkpoint. */
async function checkAnchor(
  db: Db,
  publicKey: Uint8Array,
  anchor: Exclude<AnchorRead, { kind: 'missing' }>,
  lastSeq: number,
): Promise<Finding | undefined> {
  if (anchor.kind === 'invalid') return finding('AUDIT_CHECKPOINT_INVALID', anchor.reason);
  const a: AuditCheckpoint = anchor.checkpoint;
  if (!checkpointSignatureValid(publicKey, a)) {
    return finding('AUDIT_CHECKPOINT_INVALID', `the anchor file (seq ${a.seq}) has an invalid signature`);
  }
  if (a.seq > lastSeq) {
    return finding(
      'AUDIT_TRUNCATED',
      `the anchor file names record ${a.seq} but the log ends at ${lastSeq}: the newest records and their checkpoints were deleted`,
      lastSeq + 1,
    );
  }
  const record = await readRecordAt(db, a.seq);
  if (record === undefined || !bytesEqual(record.record_hash, a.recordHash)) {
    // The walk passed, so the DB checkpoints agree with the records: the log was rewritten past the
    // last checkpoint still in the database, and those after it were removed.
    const earlier = await db
      .selectFrom('audit_checkpoint')
      .select('seq')
      .where('seq', '<', a.seq)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const from = Number(earlier?.seq ?? 0) + 1;
    return finding(
      'AUDIT_RECORD_MODIFIED',
      `record ${a.seq} does not match the anchor file: records ${from}..${a.seq} were rewritten`,
      from,
    );
  }
  const rows = await db
    .selectFrom('audit_checkpoint')
    .select(['record_hash', 'signature'])
    .where('seq', '=', a.seq)
    .execute();
  const present = rows.some(
    (r) => bytesEqual(asBytes(r.record_hash), a.recordHash) && bytesEqual(asBytes(r.signature), a.signature),
  );
  if (!present) {
    return finding(
      'AUDIT_CHECKPOINT_INVALID',
      `the checkpoint at seq ${a.seq} named by the anchor file is missing from the database`,
      a.seq,
    );
  }
  return undefined;
}
