import { createHash } from 'node:crypto';
import { constantTimeEqual, utf8 } from '../core/bytes.ts';
import { canonicalJson } from '../core/canonical.ts';
import type { AuditLogTable } from '../store/schema.ts';

/**
 * The byte encodings the chain is built on. Appending, verifying and reading all go through these
 * functions so that the three can never disagree about what a record's bytes are.
 */

/** prev_hash of record 1. */
export const GENESIS_HASH: Uint8Array = new Uint8Array(32);

/** Encoding version, inside every hashed and authenticated body so a future format can't be confused with it. */
export const RECORD_VERSION = 1;

/** A record as stored (the audit_log row). `summary` is the canonical JSON text of the summary. */
export type StoredRecord = AuditLogTable;

/** The clear columns of a record: everything the details blob is bound to. */
export type RecordFields = Omit<AuditLogTable, 'details' | 'prev_hash' | 'record_hash'>;

/**
 * Associated data of the details AEAD: the record's clear fields. A details blob therefore only
 * decrypts in the record it was written for; moved to another seq or another record, it fails.
 * The summary goes in as its stored text, so the aad is rebuilt from the columns without parsing.
 */
export function detailsAad(fields: RecordFields): Uint8Array {
  return utf8(
    canonicalJson({
      v: RECORD_VERSION,
      seq: fields.seq,
      time: fields.time,
      actor: fields.actor,
      identity: fields.identity,
      action: fields.action,
      outcome: fields.outcome,
      summary: fields.summary,
    }),
  );
}

/**
 * record_hash = sha256(prev_hash || canonical JSON of the whole record, details as hex or null).
 * `seq` is a parameter so that the verifier can ask "would this record hash correctly at another
 * seq?", which tells a renumbered (moved) record from an edited one.
 *
 * SHA-256 and hex come from node (OpenSSL, Buffer) rather than @noble: the same functions, but a
 * full verification hashes every record, and there they are about three times faster.
 */
export function computeRecordHash(
  record: Omit<StoredRecord, 'record_hash'>,
  seq: number = record.seq,
): Uint8Array {
  const body = canonicalJson({
    v: RECORD_VERSION,
    seq,
    time: record.time,
    actor: record.actor,
    identity: record.identity,
    action: record.action,
    outcome: record.outcome,
    summary: record.summary,
    details: record.details === null ? null : hex(record.details),
  });
  // A plain Uint8Array copy, as everywhere else in the room (a Buffer compares unequal in tests).
  return new Uint8Array(createHash('sha256').update(record.prev_hash).update(body, 'utf8').digest());
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Whether the record hashes to its stored record_hash when placed at `seq`. */
export function recordHashMatches(record: StoredRecord, seq: number = record.seq): boolean {
  return bytesEqual(computeRecordHash(record, seq), record.record_hash);
}

/** Length-safe comparison; hashes are public, constant time is just the house habit. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return constantTimeEqual(a, b);
}
