import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { utf8, wipe } from '../core/bytes.ts';
import { canonicalJson } from '../core/canonical.ts';
import type { Db, Store } from '../store/store.ts';
import type { AuditKeyring } from './keyring.ts';
import { type Finding, finding } from './problems.ts';
import { bytesEqual } from './record.ts';
import { asBytes } from './rows.ts';

/**
 * The verified mark: how far the log has been verified by a holder of the vault's key, so the
 * start-up check (verify-tail.ts) reads only the records after it instead of the whole log.
 *
 * It says: "records 1..seq were verified (chain, record hashes, every record's details opening
 * under the audit key, the checkpoints among them), and record seq then had this hash". It is
 * only ever written right after such a verification: a full one, the start-up check walking from
 * the previous mark, or the same walk after each checkpoint (checkpoint.ts).
 *
 * Someone with write access to the database but not the passphrase must not be able to move it
 * past records they altered. So the mark is authenticated under the audit details key (an AEAD of
 * nothing, with the mark as associated data, is a MAC nobody without the key can make), and it is
 * bound to the record hash at its seq: rewriting the chain through that record changes the hash
 * there, which the start-up check compares. What a valid mark cannot prove is that records before
 * it are still as they were when verified; only `warden audit verify` reads those again.
 */

/** Its row in `meta` (no table of its own: one value, rewritten in place). */
export const VERIFIED_MARK_KEY = 'audit_verified_mark';
export const MARK_VERSION = 1;
/** Never a prefix of a record's associated data (canonical JSON, so it starts with `{`). */
const DOMAIN = 'warden/audit-verified-mark/v1\u0000';

export interface VerifiedMark {
  seq: number;
  /** The hash of record `seq` when it was verified: the chain up to it, as verified. */
  recordHash: Uint8Array;
  /** Every checkpoint with an id up to this one (committed before that verification) was judged. */
  checkpointId: number;
}

export type MarkRead =
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'ok'; mark: VerifiedMark };

function markMessage(keyId: string, mark: VerifiedMark): Uint8Array {
  return utf8(
    DOMAIN +
      canonicalJson({
        v: MARK_VERSION,
        keyId,
        seq: mark.seq,
        recordHash: bytesToHex(mark.recordHash),
        checkpointId: mark.checkpointId,
      }),
  );
}

const HEX32 = /^[0-9a-f]{64}$/;
/** An AEAD of nothing: a 24-byte nonce and a 16-byte tag. */
const HEX_TAG = /^[0-9a-f]{80}$/;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * What a valid mark says must still hold, however far the log has grown since: the log reaches its
 * record (else the newest records were deleted, even where no checkpoint covers them yet), and
 * the checkpoints it judged are still there (checkpoint ids only grow: a lower highest id means
 * the newest checkpoints were deleted). `lastSeq` and `maxCheckpointId`: the log and checkpoints now.
 */
export function markContradiction(
  mark: VerifiedMark,
  lastSeq: number,
  maxCheckpointId: number,
): Finding | undefined {
  if (mark.seq > lastSeq) {
    return finding(
      'AUDIT_TRUNCATED',
      `the verified mark names record ${mark.seq} but the log ends at ${lastSeq}: the newest records were deleted`,
      lastSeq + 1,
    );
  }
  if (mark.checkpointId > maxCheckpointId) {
    return finding(
      'AUDIT_CHECKPOINT_INVALID',
      `checkpoints were deleted: the verified mark judged checkpoint id ${mark.checkpointId}, the newest left is ${maxCheckpointId}`,
    );
  }
  return undefined;
}

/** The mark with its tag checked; `invalid` means it was written without the key (or damaged). */
export async function readVerifiedMark(db: Db, keyring: AuditKeyring): Promise<MarkRead> {
  const row = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', VERIFIED_MARK_KEY)
    .executeTakeFirst();
  if (!row) return { kind: 'none' };
  let v: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(String(row.value));
    if (typeof parsed !== 'object' || parsed === null) throw new TypeError('not an object');
    v = parsed as Record<string, unknown>;
  } catch {
    return { kind: 'invalid', reason: 'the verified mark is not JSON' };
  }
  if (
    v.v !== MARK_VERSION ||
    !isCount(v.seq) ||
    v.seq < 1 ||
    !isCount(v.checkpointId) ||
    typeof v.recordHash !== 'string' ||
    !HEX32.test(v.recordHash) ||
    typeof v.tag !== 'string' ||
    !HEX_TAG.test(v.tag)
  ) {
    return { kind: 'invalid', reason: 'the verified mark is malformed' };
  }
  const mark: VerifiedMark = {
    seq: v.seq,
    recordHash: hexToBytes(v.recordHash),
    checkpointId: v.checkpointId,
  };
  const [opened] = await keyring.decryptMany([
    { blob: hexToBytes(v.tag), aad: markMessage(keyring.keyId, mark) },
  ]);
  const authentic = opened !== null && opened !== undefined && opened.length === 0;
  wipe(opened);
  if (!authentic) {
    return {
      kind: 'invalid',
      reason:
        "the verified mark does not authenticate under the vault's audit key: it was written without that key",
    };
  }
  return { kind: 'ok', mark };
}

/** `recordVerifiedMark` in a transaction of its own. */
export function writeVerifiedMark(store: Store, keyring: AuditKeyring, mark: VerifiedMark): Promise<boolean> {
  return store.transaction((tx) => recordVerifiedMark(tx, keyring, mark));
}

/**
 * Records a verification that reached `mark`, inside the caller's write transaction (the
 * checkpoint writer's, so the mark costs no commit of its own). Forward only: a valid mark
 * further on is kept (two processes may verify at once). An invalid one is replaced, since the
 * caller has just verified everything up to `mark` itself. Nothing is written if record `seq` no
 * longer has the hash that was verified (rewritten meanwhile). Returns whether it was written.
 */
export async function recordVerifiedMark(
  tx: Db,
  keyring: AuditKeyring,
  mark: VerifiedMark,
): Promise<boolean> {
  if (mark.seq < 1) return false;
  const current = await readVerifiedMark(tx, keyring);
  if (current.kind === 'ok') {
    const c = current.mark;
    if (c.seq > mark.seq || (c.seq === mark.seq && c.checkpointId >= mark.checkpointId)) return false;
  }
  const row = await tx
    .selectFrom('audit_log')
    .select('record_hash')
    .where('seq', '=', mark.seq)
    .executeTakeFirst();
  if (!row || !bytesEqual(asBytes(row.record_hash), mark.recordHash)) return false;
  const tag = await keyring.encrypt(new Uint8Array(0), markMessage(keyring.keyId, mark));
  const value = canonicalJson({
    v: MARK_VERSION,
    seq: mark.seq,
    recordHash: bytesToHex(mark.recordHash),
    checkpointId: mark.checkpointId,
    tag: bytesToHex(tag),
  });
  await tx
    .insertInto('meta')
    .values({ key: VERIFIED_MARK_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
  return true;
}
