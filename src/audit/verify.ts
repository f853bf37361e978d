import { wipe } from '../core/bytes.ts';
import { asWardenError, isWardenError, WardenError } from '../core/errors.ts';
import type { ControlPlaneMac } from '../keys/control-plane-key.ts';
import type { Db, Store } from '../store/store.ts';
import type { AnchorRead } from './anchor.ts';
import { readAnchorFile } from './anchor.ts';
import type { AuditCheckpoint } from './checkpoint.ts';
import { checkpointSignatureValid, fromStoredCheckpoint } from './checkpoint.ts';
import { classifyBadHash, classifyBadLink, classifyCheckpointMismatch, readRecordAt } from './classify.ts';
import { type ControlPlaneFinding, checkControlPlane } from './control-plane.ts';
import { CheckpointCursor, RecordCursor } from './cursor.ts';
import type { AuditKeyring } from './keyring.ts';
import type { AuditProblem, AuditWarning, Finding } from './problems.ts';
import { finding } from './problems.ts';
import { bytesEqual, detailsAad, GENESIS_HASH, recordHashMatches, type StoredRecord } from './record.ts';
import { asBytes } from './rows.ts';

export interface VerifyResult {
  ok: boolean;
  /** Records verified, from seq 1 up to the end or to the first bad one. */
  records: number;
  /** Checkpoints verified (signature and record hash). */
  checkpoints: number;
  /** Seq of the last verified checkpoint: records after it are protected by the chain alone. */
  lastCheckpointSeq: number | null;
  /** First seq that can't be trusted, when it can be named. */
  firstBadSeq?: number;
  problem?: AuditProblem;
  /** What became of the anchor file check. */
  anchor: 'verified' | 'missing' | 'not-configured' | 'not-reached' | 'failed';
  /** Not failures, but limits of what could be proven. */
  warnings: AuditWarning[];
  /**
   * Records whose details authenticated under the audit key (unsealed verification), or null when
   * no keyring was given: then records after the last checkpoint rest on the hash chain alone.
   */
  authenticated: number | null;
  /**
   * Token and policy rows that fail their control-plane MAC (each one named), or null when no MAC
   * was given (sealed: the control plane cannot be checked without the vault's key). Any finding
   * makes `ok` false; the chain's own `problem` is reported apart.
   */
  controlPlane: ControlPlaneFinding[] | null;
}

export interface VerifyOptions {
  /** The unsealed vault's audit keyring: every record's details blob must then authenticate. */
  keyring?: AuditKeyring;
  /** With a keyring: a record without a details blob is a forgery too (Warden always writes one). */
  requireDetails?: boolean;
  /** The unsealed vault's control-plane MAC: every token and policy row is then checked too. */
  controlPlane?: ControlPlaneMac;
}

interface WalkState {
  records: number;
  authenticated: number;
  checkpoints: number;
  lastCheckpointSeq: number | null;
  lastSeq: number;
}

/**
 * Verifies the whole log against the checkpoint public key: the chain (contiguous seqs, prev_hash
 * links, record hashes), every checkpoint (signature, and the record it names), and the anchor file
 * when its path is given. Stops at the first problem and names it. Reads in pages; safe to run while
 * the vault is appending (only checkpoints committed before the walk starts are judged).
 */
export async function verifyAudit(
  store: Store,
  publicKey: Uint8Array,
  headFilePath?: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new WardenError('INVALID_ARGUMENT', 'the audit public key must be 32 bytes');
  }
  try {
    // Order matters: the anchor file is written after its checkpoint commits, so reading it before
    // fixing the checkpoint horizon guarantees its checkpoint is inside that horizon.
    const anchor = headFilePath === undefined ? undefined : await readAnchorSafely(headFilePath);
    const maxRow = await store.db
      .selectFrom('audit_checkpoint')
      .select((eb) => eb.fn.max('id').as('maxId'))
      .executeTakeFirst();
    const maxCheckpointId = Number(maxRow?.maxId ?? 0);

    const state: WalkState = {
      records: 0,
      authenticated: 0,
      checkpoints: 0,
      lastCheckpointSeq: null,
      lastSeq: 0,
    };
    const bad = await walk(store.db, publicKey, maxCheckpointId, state, options);
    const controlPlane = options.controlPlane
      ? await checkControlPlane(store.db, options.controlPlane)
      : null;
    const base = {
      records: state.records,
      checkpoints: state.checkpoints,
      lastCheckpointSeq: state.lastCheckpointSeq,
      authenticated: options.keyring ? state.authenticated : null,
      controlPlane,
    };
    const chainOk = await judgeChain(store.db, publicKey, anchor, state, bad, base);
    return controlPlane && controlPlane.length > 0 ? { ...chainOk, ok: false } : chainOk;
  } catch (err) {
    throw asWardenError(err, 'STORE_ERROR');
  }
}

/** The verdict on the chain, checkpoints and anchor file once the walk is done. */
async function judgeChain(
  db: Db,
  publicKey: Uint8Array,
  anchor: AnchorRead | undefined,
  state: WalkState,
  bad: Finding | undefined,
  base: Omit<VerifyResult, 'ok' | 'anchor' | 'warnings' | 'problem' | 'firstBadSeq'>,
): Promise<VerifyResult> {
  if (bad) {
    return {
      ok: false,
      ...base,
      ...bad,
      anchor: anchor === undefined ? 'not-configured' : 'not-reached',
      warnings: [],
    };
  }
  if (anchor === undefined) return { ok: true, ...base, anchor: 'not-configured', warnings: [] };
  if (anchor.kind === 'missing') {
    const warnings: AuditWarning[] =
      state.checkpoints > 0
        ? [
            {
              code: 'AUDIT_ANCHOR_MISSING',
              message: 'the anchor file is missing: truncation of the newest records cannot be ruled out',
            },
          ]
        : [];
    return { ok: true, ...base, anchor: 'missing', warnings };
  }
  const anchorBad = await checkAnchor(db, publicKey, anchor, state.lastSeq);
  if (anchorBad) return { ok: false, ...base, ...anchorBad, anchor: 'failed', warnings: [] };
  return { ok: true, ...base, anchor: 'verified', warnings: [] };
}

async function readAnchorSafely(path: string): Promise<AnchorRead> {
  try {
    return await readAnchorFile(path);
  } catch {
    return { kind: 'invalid', reason: 'the anchor file cannot be read' };
  }
}

/** One pass over records and checkpoints together, both in seq order (a merge join). */
async function walk(
  db: Db,
  publicKey: Uint8Array,
  maxCheckpointId: number,
  state: WalkState,
  options: VerifyOptions,
): Promise<Finding | undefined> {
  const records = new RecordCursor(db);
  const checkpoints = new CheckpointCursor(db, maxCheckpointId);
  let prevHash = GENESIS_HASH;
  let lastGoodCheckpointSeq = 0;

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
      const linked = bytesEqual(record.prev_hash, prevHash);
      return finding(
        'AUDIT_RECORD_MISSING',
        linked
          ? `record(s) ${expected}..${s - 1} are missing (record ${s} was re-linked over the gap)`
          : `record(s) ${expected}..${s - 1} are missing`,
        expected,
      );
    }
    if (!bytesEqual(record.prev_hash, prevHash)) {
      return classifyBadLink(record, state.lastSeq, prevHash, await records.peek());
    }
    if (options.keyring) {
      const forged = await authenticateRecord(options.keyring, record, options.requireDetails === true);
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

    prevHash = record.record_hash;
    state.lastSeq = s;
    state.records++;
  }

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
 * that opens, whatever they do to the chain.
 */
async function authenticateRecord(
  keyring: AuditKeyring,
  record: StoredRecord,
  requireDetails: boolean,
): Promise<Finding | undefined> {
  if (record.details === null) {
    return requireDetails
      ? finding(
          'AUDIT_RECORD_FORGED',
          `record ${record.seq} has no details blob, which every record this vault writes has`,
          record.seq,
        )
      : undefined;
  }
  try {
    wipe(await keyring.decrypt(record.details, detailsAad(record)));
    return undefined;
  } catch (err) {
    // Only a blob that fails authentication is a forgery; a sealed or damaged keystore is not.
    if (!isWardenError(err, 'INVALID_ARGUMENT')) throw err;
    return finding(
      'AUDIT_RECORD_FORGED',
      `record ${record.seq} does not authenticate under the vault's audit key: it was written or altered without that key`,
      record.seq,
    );
  }
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

/**
 * For start-up and `warden audit verify`: throws AUDIT_CHAIN_BROKEN (with the problem code and first
 * bad seq in its details) unless the log verifies. Warnings do not throw; they are in the result.
 */
export async function assertAuditIntact(
  store: Store,
  publicKey: Uint8Array,
  headFilePath?: string,
): Promise<VerifyResult> {
  const result = await verifyAudit(store, publicKey, headFilePath);
  if (!result.ok) {
    throw new WardenError('AUDIT_CHAIN_BROKEN', result.problem?.message ?? 'the audit log does not verify', {
      problem: result.problem?.code,
      firstBadSeq: result.firstBadSeq,
    });
  }
  return result;
}
