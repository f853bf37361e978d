/**
 * Stable codes for what `verifyAudit` found. They are not WardenError codes: verification reports
 * them as data (an operator reads them; `warden audit verify` maps a failure to AUDIT_CHAIN_BROKEN).
 */
export const AUDIT_PROBLEM_CODES = [
  /** A record's content no longer matches its hash, or records were rewritten with a fresh chain. */
  'AUDIT_RECORD_MODIFIED',
  /** A record is gone: a gap in seq, or later records renumbered down to close it. */
  'AUDIT_RECORD_MISSING',
  /** A record sits at another record's place, or appears twice. */
  'AUDIT_RECORD_REORDERED',
  /** A record that was never part of the chain sits between genuine ones. */
  'AUDIT_RECORD_INSERTED',
  /** The newest records are gone: a signed checkpoint or the anchor file names a seq past the end. */
  'AUDIT_TRUNCATED',
  /** A checkpoint (in the database or the anchor file) is unreadable, badly signed or missing. */
  'AUDIT_CHECKPOINT_INVALID',
  /**
   * A record whose chain is intact but whose details do not authenticate under the vault's audit
   * key: written (or rewritten with a fresh chain) by someone without the key. Only an unsealed
   * verification can tell.
   */
  'AUDIT_RECORD_FORGED',
  /**
   * The verified mark (how far the log was verified, verified-mark.ts) does not authenticate under
   * the vault's key: someone without the key wrote it. The start-up check then cannot know where to
   * start; `warden audit verify` checks everything and replaces it.
   */
  'AUDIT_MARK_INVALID',
  /**
   * A text stored once by its hash (store/content.ts: a request's risk assessment, which records
   * name by hash) no longer matches that hash: the records naming it cannot be shown.
   */
  'AUDIT_PART_ALTERED',
  /**
   * A text a record names by hash (its risk assessment) is not in the `content` table: deleted,
   * so that record cannot be shown whole. Found by the full verification, which opens every record.
   */
  'AUDIT_PART_MISSING',
] as const;

export type AuditProblemCode = (typeof AUDIT_PROBLEM_CODES)[number];

export const AUDIT_WARNING_CODES = [
  /** Checkpoints exist but the anchor file does not: tail truncation can't be ruled out. */
  'AUDIT_ANCHOR_MISSING',
  /** A full verification found the verified mark invalid (AUDIT_MARK_INVALID) and wrote a new one. */
  'AUDIT_MARK_REPLACED',
] as const;

export type AuditWarningCode = (typeof AUDIT_WARNING_CODES)[number];

export interface AuditProblem {
  code: AuditProblemCode;
  message: string;
}

export interface AuditWarning {
  code: AuditWarningCode;
  message: string;
}

/** A verification failure: what, and the first seq that can't be trusted (when one can be named). */
export interface Finding {
  problem: AuditProblem;
  firstBadSeq?: number;
}

export function finding(code: AuditProblemCode, message: string, firstBadSeq?: number): Finding {
  return firstBadSeq === undefined
    ? { problem: { code, message } }
    : { problem: { code, message }, firstBadSeq };
}
