import type { CanonicalText } from '../core/canonical.ts';
import type { Decision } from '../core/decision.ts';
import { WardenError } from '../core/errors.ts';
import { canonicalTextOf } from '../core/json.ts';
import { riskHashOf, riskReference, withRiskAssessment } from '../core/stored-decision.ts';
import { putContent, requireContents } from '../store/content.ts';
import type { RequestTable } from '../store/schema.ts';
import type { Db, SyncTx } from '../store/store.ts';

/**
 * Request rows: one per non-dry-run request. Status moves only forward:
 *   held → executing → done | failed | unknown;  held → denied;  executing (allowed) → …
 * Updates are conditional on the current status, so two workers never execute one request.
 */
export type RequestStatus = 'held' | 'executing' | 'done' | 'denied' | 'failed' | 'unknown';

/**
 * A request's state as it is shown: its status, or `scheduled` for an `executing` send that waits
 * for its timing-jitter delay (until `scheduledFor`). Stored, it is `executing` all along.
 */
export type RequestViewStatus = RequestStatus | 'scheduled';

export interface RequestView {
  requestId: string;
  identity: string;
  protocol: string;
  action: string;
  status: RequestViewStatus;
  /** When a `scheduled` send is due (ISO time); null otherwise. */
  scheduledFor: string | null;
  createdAt: string;
  updatedAt: string;
  decision: unknown;
  result: unknown;
  error: { code: string } | null;
  hold: { approvals: number; delaySeconds: number } | null;
}

/**
 * A request as it is shown. `decision` is the row's decision with its risk assessment put back
 * (`decisionOf`, or the texts the admission just wrote): never the stored form with a hash.
 */
export function requestView(row: RequestTable, decision: unknown): RequestView {
  const scheduled = row.status === 'executing' && row.scheduled_for !== null;
  return {
    requestId: row.id,
    identity: row.identity,
    protocol: row.protocol,
    action: row.action,
    status: scheduled ? 'scheduled' : (row.status as RequestStatus),
    scheduledFor: scheduled ? row.scheduled_for : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    decision,
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error_code ? { code: row.error_code } : null,
    hold:
      row.hold_approvals > 0 || row.hold_delay_ms > 0
        ? { approvals: row.hold_approvals, delaySeconds: Math.round(row.hold_delay_ms / 1000) }
        : null,
  };
}

/** The view of a row read from the store, its decision read back whole. */
export async function loadRequestView(db: Db, row: RequestTable): Promise<RequestView> {
  return requestView(row, await decisionOf(db, row));
}

/** A row's decision as it was decided: the stored form with its risk assessment put back. */
export async function decisionOf(db: Db, row: Pick<RequestTable, 'decision'>): Promise<Decision> {
  const decision = JSON.parse(row.decision) as Decision;
  const hash = riskHashOf(decision);
  return hash === null ? decision : withRiskAssessment(decision, await requireContents(db, [hash]));
}

export async function getRequestRow(db: Db, id: string): Promise<RequestTable> {
  const row = await db.selectFrom('request').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new WardenError('NOT_FOUND', 'no request with that id', { requestId: id.slice(0, 64) });
  return row;
}

export async function findByIdempotencyKey(
  db: Db,
  identity: string,
  key: string,
): Promise<RequestTable | undefined> {
  return db
    .selectFrom('request')
    .selectAll()
    .where('identity', '=', identity)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

/** A decision as its request row and its admission's audit record hold it, and what it names. */
export interface StoredDecision {
  /** Canonical JSON with the risk assessment named by its hash (core/stored-decision.ts). */
  text: CanonicalText;
  /** The assessment's hash and canonical text, kept once in the content table. */
  assessment: { hash: string; text: string };
}

/** Writes the decision's risk assessment once (if new) and returns the decision that names it. */
export function storeDecision(sync: SyncTx, decision: Decision): StoredDecision {
  const risk = canonicalTextOf(decision.risk);
  const hash = putContent(sync, risk.text);
  return {
    text: canonicalTextOf({ ...decision, risk: riskReference(hash) }),
    assessment: { hash, text: risk.text },
  };
}

/** The decision a `storeDecision` wrote, as readers show it (what `decisionOf` reads back). */
export function storedDecisionView(stored: StoredDecision): Decision {
  return withRiskAssessment(
    JSON.parse(stored.text.text) as Decision,
    new Map([[stored.assessment.hash, stored.assessment.text]]),
  );
}

/** Moves a request from one of `from` to `to`; returns false if another worker got there first. */
export function transition(
  sync: SyncTx,
  id: string,
  from: readonly RequestStatus[],
  to: RequestStatus,
  at: Date,
  fields: Partial<Pick<RequestTable, 'result' | 'error_code' | 'payload' | 'decision' | 'executor'>> = {},
): boolean {
  // Only the named fields change; the statement text stays one of a few, each prepared once.
  const names = (Object.keys(fields) as (keyof typeof fields)[]).sort();
  const sets = ['status = ?', 'updated_at = ?', ...names.map((n) => `${n} = ?`)].join(', ');
  const holes = from.map(() => '?').join(', ');
  return (
    sync.run(`UPDATE request SET ${sets} WHERE id = ? AND status IN (${holes})`, [
      to,
      at.toISOString(),
      ...names.map((n) => fields[n] ?? null),
      id,
      ...from,
    ]) === 1
  );
}
