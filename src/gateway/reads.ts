import type { HoldRequirement } from '../core/decision.ts';
import { WardenError } from '../core/errors.ts';
import { holdProgress } from '../policy/index.ts';
import type { RequestTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import { checkedApprovals } from './approval-mac.ts';
import type { GatewayContext } from './context.ts';
import type { Operations } from './operations.ts';
import { HOLD_EXPIRY_MS, RISK_ACCEPT_WINDOW_MS } from './payload.ts';
import { principalStillValid } from './principal-state.ts';
import { loadRequestView, type RequestStatus, type RequestView } from './requests.ts';
import { type ReviewFields, reviewFields } from './review-view.ts';

/** A request as an operator reviews it: its state plus everything it would sign. */
export interface ReviewedRequest extends RequestView, ReviewFields {
  ageSeconds: number;
  /** A risk denial an operator may still accept (payload kept, within the window, intact). */
  acceptable: boolean;
  /** When a hold expires or a risk denial stops being acceptable; null otherwise. */
  expiresAt: string | null;
}

export interface HeldRequest extends ReviewedRequest {
  approvals: { operator: string; verdict: string; at: string; reason: string | null; forged: boolean }[];
  state: string;
  remainingApprovals: number;
  releaseAt: string | null;
}

/** Filters of `requests list`: a status, or the risk denials an operator may accept. */
export const REQUEST_FILTERS = [
  'held',
  'scheduled',
  'executing',
  'done',
  'denied',
  'failed',
  'unknown',
  'risk-acceptable',
] as const;
export type RequestFilter = (typeof REQUEST_FILTERS)[number];

export const MAX_LIST_LIMIT = 500;

/** Where a held request stands, from its recorded approvals bound to its exact intent hash. */
export async function progressOf(db: Db, row: RequestTable, now: Date) {
  const rows = await db.selectFrom('approval').selectAll().where('request_id', '=', row.id).execute();
  // Only approvals the vault wrote (their MAC verifies), of this exact intent, count.
  const { valid, forged } = await checkedApprovals(db, rows);
  const bound = valid.filter((a) => a.intent_hash === row.intent_hash);
  const requirement: HoldRequirement = {
    approvals: row.hold_approvals,
    delaySeconds: row.hold_delay_ms / 1000,
    reasons: [],
  };
  const votes = (verdict: string) =>
    bound.filter((a) => a.verdict === verdict).map((a) => ({ operator: a.operator, at: new Date(a.at) }));
  return {
    progress: holdProgress(
      { requirement, heldAt: new Date(row.created_at), approvals: votes('approve'), vetoes: votes('deny') },
      now,
    ),
    approvals: rows,
    forged,
  };
}

/** Read-only views of requests for operators (and agents, of their own). */
export class Reads {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly operations: Operations,
  ) {}

  async reviewed(row: RequestTable): Promise<ReviewedRequest> {
    const now = this.ctx.clock.now().getTime();
    const created = Date.parse(row.created_at);
    const fields = await reviewFields(row, this.operations, this.ctx.keyring);
    const riskDenied = row.status === 'denied' && row.error_code === 'RISK_TOO_HIGH';
    const expiresAt =
      row.status === 'held'
        ? created + HOLD_EXPIRY_MS + row.hold_delay_ms
        : riskDenied && row.payload
          ? created + RISK_ACCEPT_WINDOW_MS
          : null;
    return {
      ...(await loadRequestView(this.ctx.store.db, row)),
      ...fields,
      ageSeconds: Math.max(0, Math.floor((now - created) / 1000)),
      // What accept-risk would check: kept and intact, in time, and its token still valid.
      acceptable:
        riskDenied &&
        fields.reviewable &&
        expiresAt !== null &&
        now < expiresAt &&
        (await principalStillValid(this.ctx.store.db, row.token_id, this.ctx.clock.now())),
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    };
  }

  async held(row: RequestTable): Promise<HeldRequest> {
    const { progress, approvals, forged } = await progressOf(this.ctx.store.db, row, this.ctx.clock.now());
    return {
      ...(await this.reviewed(row)),
      approvals: approvals.map((a) => ({
        operator: a.operator,
        verdict: a.verdict,
        at: a.at,
        reason: a.reason,
        // Written without the vault key: it does not count.
        forged: forged.includes(a),
      })),
      state: row.status === 'held' ? progress.state : row.status,
      remainingApprovals: row.status === 'held' ? progress.remainingApprovals : 0,
      releaseAt: row.status === 'held' ? (progress.releaseAt?.toISOString() ?? null) : null,
    };
  }

  async heldRequests(): Promise<HeldRequest[]> {
    const rows = await this.ctx.store.db
      .selectFrom('request')
      .selectAll()
      .where('status', '=', 'held')
      .orderBy('created_at')
      .execute();
    const out: HeldRequest[] = [];
    for (const row of rows) out.push(await this.held(row));
    return out;
  }

  async requests(filter: {
    status?: RequestFilter;
    identity?: string;
    limit?: number;
  }): Promise<ReviewedRequest[]> {
    const limit = filter.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
      throw new WardenError('INVALID_REQUEST', `limit is 1 to ${MAX_LIST_LIMIT}`);
    let query = this.ctx.store.db.selectFrom('request').selectAll();
    if (filter.identity !== undefined) query = query.where('identity', '=', filter.identity);
    if (filter.status === 'risk-acceptable') {
      const since = new Date(this.ctx.clock.now().getTime() - RISK_ACCEPT_WINDOW_MS).toISOString();
      query = query
        .where('status', '=', 'denied')
        .where('payload', 'is not', null)
        .where('error_code', '=', 'RISK_TOO_HIGH')
        .where('created_at', '>', since);
    } else if (filter.status === 'scheduled') {
      // Stored as `executing`, with when it is due (requests.ts).
      query = query.where('status', '=', 'executing').where('scheduled_for', 'is not', null);
    } else if (filter.status === 'executing') {
      query = query.where('status', '=', 'executing').where('scheduled_for', 'is', null);
    } else if (filter.status !== undefined) {
      query = query.where('status', '=', filter.status satisfies RequestStatus);
    }
    // Newest first: what an operator looks at is what just happened.
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    const out: ReviewedRequest[] = [];
    for (const row of rows) out.push(await this.reviewed(row));
    return out;
  }
}
