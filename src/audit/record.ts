import { createHash } from 'node:crypto';
import { constantTimeEqual, utf8 } from '../core/bytes.ts';
import { type Canonical, canonicalJson } from '../core/canonical.ts';
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
  return utf8(recordJson(fields.seq, fields, undefined));
}

/**
 * The canonical JSON of a record's hashed body (`details` given) or of its aad (`details`
 * undefined): what `canonicalJson` writes for that object, written by hand in its sorted key
 * order because it runs for every record appended and verified. A value of another kind than the
 * columns' (a row edited into a number or a blob) goes through `canonicalJson` itself, and an
 * absent one through the object: the bytes are canonicalJson's in every case, tested there.
 */
export function recordJson(
  seq: number,
  f: Omit<RecordFields, 'seq'>,
  /** The details blob as lower-case hex (as `hex` writes it), null, or undefined for the aad. */
  details: string | null | undefined,
): string {
  const values = [f.action, f.actor, f.identity, f.outcome, f.summary, f.time];
  if (values.includes(undefined as never) || !Number.isFinite(seq))
    return canonicalJson({ ...recordObject(seq, f), ...(details === undefined ? {} : { details }) });
  return (
    `{"action":${json(f.action)},"actor":${json(f.actor)},` +
    // Hex needs no escaping: written as is, not scanned (a details blob is a few KiB of it).
    (details === undefined ? '' : `"details":${details === null ? 'null' : `"${details}"`},`) +
    `"identity":${json(f.identity)},"outcome":${json(f.outcome)},"seq":${seq},` +
    `"summary":${json(f.summary)},"time":${json(f.time)},"v":${RECORD_VERSION}}`
  );
}

function recordObject(seq: number, f: Omit<RecordFields, 'seq'>) {
  return {
    v: RECORD_VERSION,
    seq,
    time: f.time,
    actor: f.actor,
    identity: f.identity,
    action: f.action,
    outcome: f.outcome,
    summary: f.summary,
  };
}

function json(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : canonicalJson(value as Canonical);
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
  const body = recordJson(seq, record, record.details === null ? null : hex(record.details));
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
