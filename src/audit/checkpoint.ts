import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
import { canonicalJson } from '../core/canonical.ts';
import type { Clock } from '../core/clock.ts';
import { isWardenError, WardenError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { writeAnchorFile } from './anchor.ts';
import type { AuditKeyring } from './keyring.ts';
import { verifyCheckpointSignature } from './keyring.ts';
import { bytesEqual } from './record.ts';
import type { StoredCheckpoint } from './rows.ts';
import { readHead, readLastCheckpoint } from './rows.ts';

/**
 * Signed checkpoints. The hash chain alone proves order and integrity, but anyone with the file can
 * rebuild a chain. A checkpoint signs (seq, record_hash) of the head with the vault's key, so a
 * rewrite or truncation of everything up to that seq is detectable without trusting the database.
 */

export const DEFAULT_CHECKPOINT_EVERY = 100;
export const CHECKPOINT_VERSION = 1;

export interface AuditCheckpoint {
  seq: number;
  recordHash: Uint8Array;
  /** ISO time the checkpoint was signed. */
  time: string;
  keyId: string;
  signature: Uint8Array;
}

/** The signed bytes: utf8(canonicalJson({v, seq, recordHash (hex), time, keyId})). */
export function checkpointMessage(c: Omit<AuditCheckpoint, 'signature'>): Uint8Array {
  return utf8(
    canonicalJson({
      v: CHECKPOINT_VERSION,
      seq: c.seq,
      recordHash: bytesToHex(c.recordHash),
      time: c.time,
      keyId: c.keyId,
    }),
  );
}

export function checkpointSignatureValid(publicKey: Uint8Array, c: AuditCheckpoint): boolean {
  return verifyCheckpointSignature(publicKey, checkpointMessage(c), c.signature);
}

export function fromStoredCheckpoint(row: StoredCheckpoint): AuditCheckpoint {
  return {
    seq: row.seq,
    recordHash: row.record_hash,
    time: row.time,
    keyId: row.key_id,
    signature: row.signature,
  };
}

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
 */
export async function writeCheckpoint(
  store: Store,
  keyring: AuditKeyring,
  clock: Clock,
  headFile?: string,
): Promise<WriteCheckpointResult | null> {
  try {
    const result = await store.transaction(async (tx): Promise<WriteCheckpointResult | null> => {
      const head = await readHead(tx);
      if (!head) return null;
      const last = await readLastCheckpoint(tx);
      if (last && last.seq === head.seq && bytesEqual(last.record_hash, head.recordHash)) {
        const existing = fromStoredCheckpoint(last);
        // Only a checkpoint we can verify counts as covering the head; a planted row does not.
        if (checkpointSignatureValid(keyring.publicKey, existing))
          return { checkpoint: existing, created: false };
      }
      const unsigned = {
        seq: head.seq,
        recordHash: head.recordHash,
        time: clock.now().toISOString(),
        keyId: keyring.keyId,
      };
      const signature = await keyring.sign(checkpointMessage(unsigned));
      await tx
        .insertInto('audit_checkpoint')
        .values({
          seq: unsigned.seq,
          record_hash: unsigned.recordHash,
          time: unsigned.time,
          key_id: unsigned.keyId,
          signature,
        })
        .execute();
      return { checkpoint: { ...unsigned, signature }, created: true };
    });
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
