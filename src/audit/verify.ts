import { asWardenError, WardenError } from '../core/errors.ts';
import { riskHashOf } from '../core/stored-decision.ts';
import type { ControlPlaneMac } from '../keys/control-plane-key.ts';
import { alteredContents, storedHashes } from '../store/content.ts';
import type { Store } from '../store/store.ts';
import { checkpointHorizon, judgeAnchor, readAnchorSafely } from './anchor-check.ts';
import { type ControlPlaneFinding, checkControlPlane } from './control-plane.ts';
import { type AuditProblem, type AuditWarning, type Finding, finding } from './problems.ts';
import { readHead } from './rows.ts';
import { markContradiction, readVerifiedMark, writeVerifiedMark } from './verified-mark.ts';
import { FROM_GENESIS, reached, startState, type WalkOptions, type WalkState, walk } from './walk.ts';

export interface VerifyResult {
  ok: boolean;
  /**
   * Records verified: from seq 1 up to the end or to the first bad one. For the start-up check,
   * the records covered: those up to the verified mark (verified before) and those it walked.
   */
  records: number;
  /** Checkpoints verified (signature and record hash) by this run. */
  checkpoints: number;
  /** Seq of the last verified checkpoint: records after it are protected by the chain alone. */
  lastCheckpointSeq: number | null;
  /**
   * 0 for a full verification. For the start-up check, the seq of the verified mark it started
   * from: records up to it were verified earlier and were not read again (verify-tail.ts).
   */
  verifiedFrom: number;
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

export interface VerifyOptions extends WalkOptions {
  /** The unsealed vault's control-plane MAC: every token and policy row is then checked too. */
  controlPlane?: ControlPlaneMac;
}

/**
 * Verifies the whole log against the checkpoint public key: the chain (contiguous seqs, prev_hash
 * links, record hashes), every checkpoint (signature, and the record it names), and the anchor file
 * when its path is given; with a keyring, every record's details, and that what the verified mark
 * vouches for is still there (markContradiction). Stops at the first problem and
 * names it. Streams the log in pages; safe to run while the vault is appending (only checkpoints
 * committed before the walk starts are judged).
 *
 * Unsealed with `requireDetails` (what Warden runs), a clean result also moves the verified mark
 * to the end of the log, so the next start-up check starts from there; a mark that failed its
 * authentication is replaced, with a warning.
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
    const anchor = headFilePath === undefined ? undefined : await readAnchorSafely(headFilePath);
    // Read before the walk, like the anchor: a mark written meanwhile may name a record it never reached.
    const mark = options.keyring ? await readVerifiedMark(store.db, options.keyring) : undefined;
    const maxCheckpointId = await checkpointHorizon(store.db);
    const total = (await readHead(store.db))?.seq ?? 0;
    const state = startState(FROM_GENESIS);
    const named = new PartsNamed();
    const walkOptions = {
      ...options,
      total,
      onDetails: (seq: number, plain: Uint8Array) => named.note(seq, plain),
    };
    const bad =
      (await walk(store.db, publicKey, maxCheckpointId, FROM_GENESIS, state, walkOptions)) ??
      (mark?.kind === 'ok' ? markContradiction(mark.mark, state.lastSeq, maxCheckpointId) : undefined) ??
      (await alteredParts(store)) ??
      (await named.missing(store));
    const controlPlane = options.controlPlane
      ? await checkControlPlane(store.db, options.controlPlane)
      : null;
    const result = await verdict(store, publicKey, anchor, maxCheckpointId, state, bad, {
      records: state.records,
      checkpoints: state.checkpoints,
      lastCheckpointSeq: state.lastCheckpointSeq,
      verifiedFrom: 0,
      authenticated: options.keyring ? state.authenticated : null,
      controlPlane,
    });
    if (result.ok && options.keyring && options.requireDetails === true) {
      await writeVerifiedMark(store, options.keyring, reached(state, maxCheckpointId));
      if (mark?.kind === 'invalid') {
        result.warnings.push({
          code: 'AUDIT_MARK_REPLACED',
          message: `${mark.reason}; this verification replaced it`,
        });
      }
    }
    return controlPlane && controlPlane.length > 0 ? { ...result, ok: false } : result;
  } catch (err) {
    throw asWardenError(err, 'STORE_ERROR');
  }
}

/** The texts records name by hash, each checked against its name: a full verification checks everything. */
async function alteredParts(store: Store): Promise<Finding | undefined> {
  const altered = await alteredContents(store.db);
  if (altered.length === 0) return undefined;
  return finding(
    'AUDIT_PART_ALTERED',
    `${altered.length} stored part(s) no longer match their hash, so the records naming them cannot be shown: ${altered.slice(0, 3).join(', ')}${altered.length > 3 ? ', …' : ''}`,
  );
}

/**
 * The stored parts the opened records name (their decision's risk assessment, by hash), each
 * with the first record naming it; then, which of them the `content` table no longer has.
 */
class PartsNamed {
  readonly #firstSeq = new Map<string, number>();
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });

  note(seq: number, plain: Uint8Array): void {
    let details: unknown;
    try {
      details = JSON.parse(this.#decoder.decode(plain));
    } catch {
      return; // authentic but not JSON: nothing it names
    }
    const hash = riskHashOf((details as { decision?: unknown } | null)?.decision);
    if (hash !== null && !this.#firstSeq.has(hash)) this.#firstSeq.set(hash, seq);
  }

  async missing(store: Store): Promise<Finding | undefined> {
    if (this.#firstSeq.size === 0) return undefined;
    const stored = await storedHashes(store.db, this.#firstSeq.keys());
    const gone = [...this.#firstSeq].filter(([hash]) => !stored.has(hash)).sort((a, b) => a[1] - b[1]);
    const first = gone[0];
    if (first === undefined) return undefined;
    return finding(
      'AUDIT_PART_MISSING',
      `${gone.length} stored part(s) that records name by hash are gone, so those records cannot be shown whole; the first is named by record ${first[1]}`,
      first[1],
    );
  }
}

type Counts = Pick<
  VerifyResult,
  'records' | 'checkpoints' | 'lastCheckpointSeq' | 'verifiedFrom' | 'authenticated' | 'controlPlane'
>;

/** The verdict on the chain, checkpoints and anchor file once the walk is done (control plane apart). */
export async function verdict(
  store: Store,
  publicKey: Uint8Array,
  anchor: Awaited<ReturnType<typeof readAnchorSafely>> | undefined,
  maxCheckpointId: number,
  state: WalkState,
  bad: Finding | undefined,
  counts: Counts,
): Promise<VerifyResult> {
  if (bad) {
    return {
      ok: false,
      ...counts,
      ...bad,
      anchor: anchor === undefined ? 'not-configured' : 'not-reached',
      warnings: [],
    };
  }
  const judged = await judgeAnchor(store.db, publicKey, anchor, state.lastSeq, maxCheckpointId > 0);
  if (judged.anchor === 'failed')
    return { ok: false, ...counts, ...judged.bad, anchor: 'failed', warnings: [] };
  return { ok: true, ...counts, anchor: judged.anchor, warnings: judged.warnings };
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
