import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
import { canonicalJson } from '../core/canonical.ts';
import { verifyCheckpointSignature } from './keyring.ts';
import type { StoredCheckpoint } from './rows.ts';

/**
 * What a checkpoint is and how its signature is checked: apart from writing them (checkpoint.ts),
 * so that the verifiers, which writing a checkpoint itself runs, import no writer.
 */

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
