import { wipe } from '../core/bytes.ts';
import type { Canonical } from '../core/canonical.ts';
import { WardenError } from '../core/errors.ts';
import { riskHashOf, withRiskAssessment } from '../core/stored-decision.ts';
import { getContents } from '../store/content.ts';
import type { Store } from '../store/store.ts';
import type { AuditKeyring } from './keyring.ts';
import type { StoredRecord } from './record.ts';
import { detailsAad } from './record.ts';
import { toStoredRecord } from './rows.ts';

export interface ReadAuditOptions {
  /** Only records at or after this time. Either way the newest `limit` records are read, shown oldest first. */
  since?: Date;
  identity?: string;
  /** At most this many records (default 100, at most 10 000). */
  limit?: number;
}

export interface AuditView {
  seq: number;
  time: string;
  actor: string;
  identity: string | null;
  action: string;
  outcome: string;
  summary: Record<string, string | number | boolean>;
  /** Set when the stored summary is not a JSON object (the log was tampered with; run verify). */
  summaryError?: 'PARSE_FAILED';
  /** Decrypted details, when the record has some and a keyring was given. */
  details?: Canonical;
  /** The record has details but no keyring was given (vault sealed): they are not shown. */
  sealed?: true;
  /**
   * The details did not decrypt (wrong key, altered or moved blob) or were not JSON; or the risk
   * assessment their decision names by hash is missing or altered (PART_MISSING; run verify).
   */
  detailsError?: 'DECRYPT_FAILED' | 'PART_MISSING';
}

export const DEFAULT_READ_LIMIT = 100;
export const MAX_READ_LIMIT = 10_000;

/**
 * Reads records for display. It does not verify the chain (that is `verifyAudit`) and never throws on
 * a bad record: an unreadable detail is marked on that record so the rest of the log stays readable.
 */
export async function readAudit(
  store: Store,
  keyring: AuditKeyring | null,
  options: ReadAuditOptions = {},
): Promise<AuditView[]> {
  const limit = options.limit ?? DEFAULT_READ_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
    throw new WardenError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_READ_LIMIT}`);
  }
  if (options.since !== undefined && Number.isNaN(options.since.getTime())) {
    throw new WardenError('INVALID_ARGUMENT', 'since is not a valid date');
  }
  let query = store.db.selectFrom('audit_log').selectAll().limit(limit);
  if (options.identity !== undefined) query = query.where('identity', '=', options.identity);
  // Times are stored as ISO-8601 UTC strings, which sort as text in time order.
  if (options.since !== undefined) query = query.where('time', '>=', options.since.toISOString());
  // The newest `limit` (what someone looking at a log wants), then put back in time order.
  const rows = (await query.orderBy('seq', 'desc').execute()).map((r) =>
    toStoredRecord(r as unknown as Record<string, unknown>),
  );
  rows.reverse();
  const views: AuditView[] = [];
  for (const row of rows) views.push(await view(row, keyring));
  return withAssessments(store, views);
}

/**
 * A decision in a record's details names its risk assessment by hash (core/stored-decision.ts):
 * the assessment is put back, so a record shows what was decided, whole. The hash is inside the
 * authenticated details, so the record commits to the text; a text that does not match is not shown.
 */
async function withAssessments(store: Store, views: AuditView[]): Promise<AuditView[]> {
  const decisionOf = (v: AuditView) => (v.details as { decision?: unknown } | undefined)?.decision;
  const hashes = views.map((v) => riskHashOf(decisionOf(v))).filter((h) => h !== null);
  if (hashes.length === 0) return views;
  const texts = await getContents(store.db, hashes);
  for (const v of views) {
    const hash = riskHashOf(decisionOf(v));
    if (hash === null) continue;
    if (texts.has(hash)) withRiskAssessment(decisionOf(v), texts);
    else {
      delete v.details;
      v.detailsError = 'PART_MISSING';
    }
  }
  return views;
}

async function view(row: StoredRecord, keyring: AuditKeyring | null): Promise<AuditView> {
  const out: AuditView = {
    seq: row.seq,
    time: row.time,
    actor: row.actor,
    identity: row.identity,
    action: row.action,
    outcome: row.outcome,
    summary: {},
  };
  const summary = parseSummary(row.summary);
  if (summary === undefined) out.summaryError = 'PARSE_FAILED';
  else out.summary = summary;
  if (row.details === null) return out;
  if (keyring === null) {
    out.sealed = true;
    return out;
  }
  let plain: Uint8Array | undefined;
  try {
    plain = await keyring.decrypt(row.details, detailsAad(row));
    out.details = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain)) as Canonical;
  } catch {
    out.detailsError = 'DECRYPT_FAILED';
  } finally {
    wipe(plain);
  }
  return out;
}

function parseSummary(text: string): Record<string, string | number | boolean> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const out: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
    return out;
  } catch {
    return undefined;
  }
}
