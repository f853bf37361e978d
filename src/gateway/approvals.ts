import { bytesToHex } from '@noble/hashes/utils.js';
import { appendAuditInTx } from '../audit/append.ts';
import { type AuditEntry, auditRecord } from '../audit/entry.ts';
import type { Decision } from '../core/decision.ts';
import { type ErrorCode, WardenError } from '../core/errors.ts';
import { toJsonValue } from '../core/json.ts';
import type { Policy } from '../policy/index.ts';
import { riskAcceptance, riskAcceptanceBytes } from '../risk/index.ts';
import type { RequestTable } from '../store/schema.ts';
import type { WriteTx } from '../store/store.ts';
import { assessAndEvaluate } from './admission.ts';
import { approvalMac } from './approval-mac.ts';
import type { GatewayContext } from './context.ts';
import { intentFromJson } from './intent-codec.ts';
import { reserve, restamp, settle } from './ledger.ts';
import type { Operations } from './operations.ts';
import { HOLD_EXPIRY_MS, payloadAad, RISK_ACCEPT_WINDOW_MS } from './payload.ts';
import type { Pipeline } from './pipeline.ts';
import { loadPolicy } from './policies.ts';
import { principalBudgetOf, principalStillValid } from './principal-state.ts';
import { progressOf } from './reads.ts';
import {
  decisionOf,
  getRequestRow,
  loadRequestView,
  type RequestView,
  storeDecision,
  transition,
} from './requests.ts';
import { type OpenedRequest, openRequest } from './review-view.ts';

/** The policy with every risk cap lifted (the highest possible score is 16). */
function withoutRiskCaps(policy: Policy): Policy {
  return {
    ...policy,
    risk: { ...policy.risk, maxScore: 16 },
    rules: policy.rules.map((r) => ({ ...r, maxRiskScore: null })),
  };
}

const ACCEPT_REFUSAL_MESSAGES = {
  ACCEPTANCE_EXPIRED: 'the denial is older than a hold may wait; the agent must ask again',
  TOKEN_INVALID: 'the token that asked was revoked or has expired',
  APPROVAL_MISMATCH: 'the stored payload no longer matches the reviewed intent',
} as const;

const POLICY_REFUSALS = new Set(['POLICY_DENIED', 'NO_MATCHING_RULE', 'DESTINATION_DENIED']);

/**
 * Holds for human approval or a delay. An approval is bound to the hash of the exact intent it
 * approved, one operator counts once, any veto denies, and a ready request executes exactly once
 * (the `held → executing` transition is conditional).
 */
export class Approvals {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly pipeline: Pipeline,
    private readonly operations: Operations,
    /**
     * Whether this process executes released requests. The server does; the CLI only records
     * decisions and leaves execution to the server's scheduler, whose nonce locks and RPC
     * endpoints are the ones in charge.
     */
    private readonly executeHere: boolean = true,
  ) {}

  async decide(
    actor: string,
    requestId: string,
    verdict: 'approve' | 'deny',
    reason: string | null,
    /** The intent hash the operator reviewed; if given, it must be the request's. */
    reviewedIntentHash: string | null = null,
  ): Promise<RequestView> {
    if (reason !== null && reason.length > 500)
      throw new WardenError('INVALID_REQUEST', 'reason: at most 500 characters');
    const ready = await this.ctx.store.transaction(async (tx) => {
      const row = await getRequestRow(tx, requestId);
      if (row.status !== 'held')
        throw new WardenError('REQUEST_NOT_PENDING', `the request is ${row.status}, not held`, { requestId });
      if (reviewedIntentHash !== null && reviewedIntentHash !== row.intent_hash) {
        throw new WardenError(
          'APPROVAL_MISMATCH',
          'the request is not the one you reviewed (intent hash differs)',
          { requestId },
        );
      }
      const previous = await tx
        .selectFrom('approval')
        .selectAll()
        .where('request_id', '=', requestId)
        .where('operator', '=', actor)
        .executeTakeFirst();
      const now = this.ctx.clock.now();
      if (previous?.verdict === 'deny' && verdict === 'approve') {
        throw new WardenError('REQUEST_NOT_PENDING', 'a veto cannot be turned into an approval');
      }
      if (!previous || previous.verdict !== verdict) {
        const fields = {
          request_id: requestId,
          operator: actor,
          verdict,
          intent_hash: row.intent_hash,
          reason,
          at: now.toISOString(),
        };
        const approval = { ...fields, mac: await approvalMac(tx, fields) };
        // One row per operator: approving twice counts once; a later veto replaces the approval.
        await tx
          .insertInto('approval')
          .values(approval)
          .onConflict((oc) =>
            oc.columns(['request_id', 'operator']).doUpdateSet({
              verdict,
              reason,
              intent_hash: approval.intent_hash,
              at: approval.at,
              mac: approval.mac,
            }),
          )
          .execute();
        await this.#audit(tx, actor, row, `approval.${verdict}`, verdict === 'approve' ? 'ok' : 'denied', {
          reason,
        });
      }
      return this.#advance(tx, row, actor);
    });
    if (ready) await this.#execute(ready, actor);
    return loadRequestView(this.ctx.store.db, await getRequestRow(this.ctx.store.db, requestId));
  }

  /**
   * An operator overrides a risk denial: a signed risk-acceptance record (who, why, the assessment)
   * goes into the audit log, and the request is evaluated again under the policy now in force with
   * risk caps lifted — every other rule (limits, lists, holds) still applies. It checks what a
   * release checks: the asking token is still valid, the denial is no older than a hold may wait,
   * and the kept payload still rebuilds the reviewed intent. A refused acceptance drops the payload
   * for good (it could never pass again) and is audited.
   */
  async acceptRisk(
    actor: string,
    requestId: string,
    reason: string,
    /** The intent hash the operator reviewed; if given, it must be the request's. */
    reviewedIntentHash: string | null = null,
  ): Promise<RequestView> {
    if (reason.length > 500) throw new WardenError('INVALID_REQUEST', 'reason: at most 500 characters');
    const row = await getRequestRow(this.ctx.store.db, requestId);
    const stored = await decisionOf(this.ctx.store.db, row);
    if (row.status !== 'denied' || stored.code !== 'RISK_TOO_HIGH' || !row.payload) {
      throw new WardenError(
        'REQUEST_NOT_PENDING',
        'only a request denied for its risk, whose payload is still kept, can have its risk accepted',
        { requestId },
      );
    }
    const now = this.ctx.clock.now();
    const record = riskAcceptance({
      operator: actor,
      reason,
      assessment: stored.risk,
      operationId: requestId,
      at: now,
    });
    const signature = await this.ctx.keyring.sign(riskAcceptanceBytes(record));
    const intent = intentFromJson(row.intent);
    const acceptance = {
      acceptance: toJsonValue(record),
      signature: bytesToHex(signature),
      keyId: this.ctx.keyring.keyId,
    };
    const outcome = await this.ctx.store.transaction(async (tx) => {
      const current = await getRequestRow(tx, requestId);
      const currentCode = (JSON.parse(current.decision) as Pick<Decision, 'code'>).code;
      if (current.status !== 'denied' || currentCode !== 'RISK_TOO_HIGH' || !current.payload) {
        throw new WardenError('REQUEST_NOT_PENDING', `the request is ${current.status}`, { requestId });
      }
      if (reviewedIntentHash !== null && reviewedIntentHash !== current.intent_hash) {
        throw new WardenError(
          'APPROVAL_MISMATCH',
          'the request is not the one you reviewed (intent hash differs)',
          { requestId },
        );
      }
      const at = this.ctx.clock.now();
      const checked = await this.#acceptRefusal(tx, current, at);
      if ('refusal' in checked) {
        const { refusal } = checked;
        await tx
          .updateTable('request')
          .set({ payload: null, updated_at: at.toISOString() })
          .where('id', '=', requestId)
          .execute();
        await this.#audit(tx, actor, row, 'risk.accept', 'denied', { ...acceptance, code: refusal });
        return { refusal };
      }
      const relaxed = withoutRiskCaps((await loadPolicy(tx, row.identity)).policy);
      const decision = await assessAndEvaluate(
        intent,
        relaxed,
        (since, at) => this.ctx.ledger.snapshot(tx.sync, intent, since, at),
        at,
        // The asker's own budget still bounds it (an NWC connection's): no reservation was made.
        await principalBudgetOf(tx, row.token_id, at),
      );
      // Where this process does not execute, an allowed request waits, ready, for the server.
      const status =
        decision.outcome === 'allow'
          ? this.executeHere
            ? 'executing'
            : 'held'
          : decision.outcome === 'hold'
            ? 'held'
            : 'denied';
      const columns = {
        id: requestId,
        intent_hash: current.intent_hash,
        status,
        hold_approvals: decision.hold?.approvals ?? 0,
        hold_delay_ms: (decision.hold?.delaySeconds ?? 0) * 1000,
        // A hold waits (and expires) from now, not from the denial.
        created_at: status === 'held' ? at.toISOString() : current.created_at,
      };
      // Sealed again, bound to how it is admitted now (payload.ts).
      const { operation, parsed } = checked.opened;
      const payload =
        decision.outcome === 'deny'
          ? null
          : await this.ctx.keyring.encrypt(operation.encode(parsed), payloadAad(columns));
      await tx
        .updateTable('request')
        .set({
          ...columns,
          decision: storeDecision(tx.sync, decision).text.text,
          error_code: decision.outcome === 'deny' ? decision.code : null,
          payload,
          executor: status === 'executing' ? this.ctx.executor.id() : null,
          updated_at: at.toISOString(),
        })
        .where('id', '=', requestId)
        .where('status', '=', 'denied')
        .execute();
      if (decision.outcome !== 'deny') await reserve(tx.sync, requestId, intent, at);
      await this.#audit(tx, actor, row, 'risk.accept', decision.outcome === 'deny' ? 'denied' : 'ok', {
        ...acceptance,
        decision: toJsonValue(decision),
      });
      return { ready: status === 'executing' ? await getRequestRow(tx, requestId) : null };
    });
    if ('refusal' in outcome) {
      throw new WardenError(
        outcome.refusal,
        ACCEPT_REFUSAL_MESSAGES[outcome.refusal as keyof typeof ACCEPT_REFUSAL_MESSAGES],
        { requestId },
      );
    }
    if (outcome.ready) await this.#execute(outcome.ready, actor);
    return loadRequestView(this.ctx.store.db, await getRequestRow(this.ctx.store.db, requestId));
  }

  /** Why a risk denial can no longer be accepted, if it cannot. */
  async #acceptRefusal(
    tx: WriteTx,
    row: RequestTable,
    now: Date,
  ): Promise<{ refusal: ErrorCode } | { opened: OpenedRequest }> {
    if (now.getTime() - Date.parse(row.created_at) > RISK_ACCEPT_WINDOW_MS)
      return { refusal: 'ACCEPTANCE_EXPIRED' };
    if (!(await principalStillValid(tx, row.token_id, now))) return { refusal: 'TOKEN_INVALID' };
    try {
      const opened = await openRequest(row, this.operations, this.ctx.keyring);
      return opened.matches ? { opened } : { refusal: 'APPROVAL_MISMATCH' };
    } catch {
      return { refusal: 'APPROVAL_MISMATCH' };
    }
  }

  /** Drops the payloads of risk denials past the acceptance window: they can never be signed. */
  async expireRiskPayloads(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - RISK_ACCEPT_WINDOW_MS).toISOString();
    const db = this.ctx.store.db;
    const stale = await db
      .selectFrom('request')
      .select('id')
      .where('status', '=', 'denied')
      .where('payload', 'is not', null)
      .where('created_at', '<=', cutoff)
      .limit(1)
      .execute();
    if (stale.length === 0) return 0;
    const result = await db
      .updateTable('request')
      .set({ payload: null, updated_at: now.toISOString() })
      .where('status', '=', 'denied')
      .where('payload', 'is not', null)
      .where('created_at', '<=', cutoff)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Releases delayed holds whose time has come and expires stale ones. Returns how many ran. */
  async tick(): Promise<number> {
    await this.expireRiskPayloads(this.ctx.clock.now());
    const nowMs = this.ctx.clock.now().getTime();
    const db = this.ctx.store.db;
    const held = await db
      .selectFrom('request')
      .select(['id', 'created_at', 'hold_delay_ms', 'hold_approvals'])
      .where('status', '=', 'held')
      .execute();
    if (held.length === 0) return 0;
    const votes = await db
      .selectFrom('approval')
      .innerJoin('request', 'request.id', 'approval.request_id')
      .select(['approval.request_id', 'approval.verdict'])
      .where('request.status', '=', 'held')
      .execute();
    const approvals = new Map<string, number>();
    const vetoed = new Set<string>();
    for (const v of votes) {
      if (v.verdict === 'deny') vetoed.add(v.request_id);
      else approvals.set(v.request_id, (approvals.get(v.request_id) ?? 0) + 1);
    }
    // Only requests that can move: delay over and enough approvals, a veto, or past expiry.
    const due = held.filter((r) => {
      const heldAt = Date.parse(r.created_at);
      const expired = nowMs - heldAt > HOLD_EXPIRY_MS + r.hold_delay_ms;
      const ready = nowMs >= heldAt + r.hold_delay_ms && (approvals.get(r.id) ?? 0) >= r.hold_approvals;
      return expired || ready || vetoed.has(r.id);
    });
    let ran = 0;
    for (const { id } of due) {
      const ready = await this.ctx.store.transaction(async (tx) => {
        const current = await getRequestRow(tx, id);
        return current.status === 'held' ? this.#advance(tx, current, 'scheduler') : null;
      });
      if (ready) {
        await this.#execute(ready, 'scheduler');
        ran++;
      }
    }
    return ran;
  }

  /** Moves a held request on if it can: vetoed → denied, expired → denied, ready → executing. */
  async #advance(tx: WriteTx, row: RequestTable, actor: string): Promise<RequestTable | null> {
    const now = this.ctx.clock.now();
    const { progress, forged } = await progressOf(tx, row, now);
    if (forged.length > 0) {
      this.ctx.logger.error(
        { operationId: row.id, code: 'CONTROL_PLANE_TAMPERED', forged: forged.length },
        'approval rows without a valid MAC are ignored: they were written without the vault key',
      );
    }
    // Past its expiry a hold is closed, whatever approvals arrive late.
    const expired = now.getTime() - Date.parse(row.created_at) > HOLD_EXPIRY_MS + row.hold_delay_ms;
    const refusal =
      progress.state === 'vetoed'
        ? 'REQUEST_VETOED'
        : expired
          ? 'HOLD_EXPIRED'
          : progress.state === 'ready'
            ? await this.#releaseRefusal(tx, row, now)
            : null;
    if (refusal) {
      await transition(tx.sync, row.id, ['held'], 'denied', now, { error_code: refusal, payload: null });
      await settle(tx.sync, row.id, 'released', now);
      await this.#audit(tx, actor, row, 'approval.closed', 'denied', { code: refusal });
      return null;
    }
    if (progress.state !== 'ready' || !this.executeHere) return null;
    const executor = this.ctx.executor.id();
    if (!(await transition(tx.sync, row.id, ['held'], 'executing', now, { executor }))) return null;
    // From now on the reservation counts from the moment it is spent, not from when it was asked.
    await restamp(tx, row.id, now);
    return row;
  }

  /**
   * What may stop a ready hold at release: the token that asked was revoked or expired, or the
   * policy now in force refuses the request outright (limits were reserved at admission and are
   * not counted twice; a risk denial is the operator's to accept).
   */
  async #releaseRefusal(tx: WriteTx, row: RequestTable, now: Date): Promise<ErrorCode | null> {
    if (!(await principalStillValid(tx, row.token_id, now))) return 'TOKEN_INVALID';
    const intent = intentFromJson(row.intent);
    const { policy } = await loadPolicy(tx, row.identity);
    const decision = await assessAndEvaluate(
      intent,
      policy,
      (since, at) => this.ctx.ledger.snapshot(tx.sync, intent, since, at),
      now,
    );
    return decision.outcome === 'deny' && POLICY_REFUSALS.has(decision.code)
      ? (decision.code as ErrorCode)
      : null;
  }

  /** Executes a released request from its sealed payload, after checking it is what was approved. */
  async #execute(row: RequestTable, actor: string): Promise<void> {
    const intent = intentFromJson(row.intent);
    let opened: OpenedRequest;
    try {
      // The payload must rebuild exactly the review the approvals were bound to.
      opened = await openRequest(row, this.operations, this.ctx.keyring);
      if (!opened.matches) throw new Error('intent hash mismatch');
    } catch {
      await this.ctx.store.transaction(async (tx) => {
        const now = this.ctx.clock.now();
        await transition(tx.sync, row.id, ['executing'], 'failed', now, {
          error_code: 'APPROVAL_MISMATCH',
          payload: null,
        });
        await settle(tx.sync, row.id, 'released', now);
        await this.#audit(tx, actor, row, 'approval.execute', 'failed', { code: 'APPROVAL_MISMATCH' });
      });
      return;
    }
    await this.pipeline.execute(row.id, opened.operation, opened.parsed, intent, actor);
  }

  async #audit(
    tx: WriteTx,
    actor: string,
    row: RequestTable,
    action: string,
    outcome: AuditEntry['outcome'],
    details: Record<string, unknown>,
  ) {
    await appendAuditInTx(
      tx.sync,
      this.ctx.keyring,
      auditRecord({
        actor,
        identity: row.identity,
        action,
        outcome,
        operationId: row.id,
        protocol: row.protocol,
        details,
      }),
      this.ctx.clock,
    );
  }
}
