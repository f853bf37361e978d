import { appendAuditInTx } from '../audit/append.ts';
import { type AuditEntry, auditRecord } from '../audit/entry.ts';
import type { CanonicalText } from '../core/canonical.ts';
import type { Decision } from '../core/decision.ts';
import { WardenError } from '../core/errors.ts';
import type { Intent } from '../core/intent.ts';
import { actorOf, type Principal, type PrincipalBudget } from '../core/principal.ts';
import { evaluate, normalizeDestination, type Policy, snapshotHorizon } from '../policy/index.ts';
import type { AnyOperation, ExecutionOutcome } from '../protocols/operation.ts';
import { RISK_CATALOG } from '../protocols/risk-catalog.ts';
import { assessRisk, type MonitorSignals, PAID_BEFORE, toleranceFromPolicy } from '../risk/index.ts';
import type { RequestTable } from '../store/schema.ts';
import type { SyncTx } from '../store/store.ts';
import type { GatewayContext } from './context.ts';
import { reserve } from './ledger.ts';
import { MAX_ACCEPTABLE_DENIALS, MAX_PENDING_HOLDS, payloadAad } from './payload.ts';
import type { LoadedPolicy } from './policies.ts';
import { budgetPolicy, withinPrincipalBudget } from './principal-budget.ts';
import {
  type RequestStatus,
  type RequestView,
  requestView,
  storeDecision,
  storedDecisionView,
} from './requests.ts';
import { appendResultRecord, ledgerStatusOf, resultColumns, resultTextOf } from './settle.ts';

/** What a `signLocally` answers when the request is signed after its unit (admit-off-thread.ts). */
export const SIGNED_AFTER: unique symbol = Symbol('signed after this unit');

const STATUS_FOR: Record<Decision['outcome'], RequestStatus> = {
  allow: 'executing',
  hold: 'held',
  deny: 'denied',
};
const AUDIT_OUTCOME_FOR: Record<Decision['outcome'], AuditEntry['outcome']> = {
  allow: 'ok',
  hold: 'held',
  deny: 'denied',
};

/** Everything admission needs, prepared before the unit runs (parsing, fee estimates, the review hash). */
export interface Admission {
  principal: Principal;
  identity: string;
  op: AnyOperation;
  parsed: unknown;
  intent: Intent;
  /** The intent's canonical text (`intentText`), written once for the review hash, the row and the record. */
  intentText: CanonicalText;
  key: string | null;
  requestId: string;
  intentHash: string;
  loaded: LoadedPolicy;
}

export type Admitted =
  | { replay: RequestTable }
  | {
      decision: Decision;
      checkpointDue: boolean;
      /** The request row as this unit left it. */
      row: RequestTable;
      /** The row as it is shown (its decision whole). */
      view: RequestView;
      /** Allowed, and its execution still to run (it sends, or it signs outside this unit). */
      executeAfter: boolean;
    };

/**
 * Risk, then policy over the window snapshot the policy needs (pure, given the snapshot). Risk
 * reads the facts the module put in the intent (`signals`) and one of the ledger's, from the same
 * snapshot: whether a destination was paid before (PAID_BEFORE). No read beyond the snapshot.
 */
export function assessAndEvaluate(
  intent: Intent,
  policy: Policy,
  snapshotFor: (since: Date, now: Date) => Parameters<typeof evaluate>[2],
  now: Date,
  budget?: PrincipalBudget,
): Decision {
  const own = budget ? budgetPolicy(budget, policy.words) : null;
  const horizon = snapshotHorizon(policy, now);
  const ownHorizon = own ? snapshotHorizon(own, now) : horizon;
  const snapshot = snapshotFor(ownHorizon < horizon ? ownHorizon : horizon, now);
  const risk = assessRisk(intent, {
    tolerance: toleranceFromPolicy(policy.risk?.tolerance),
    catalog: RISK_CATALOG,
    signals: riskSignals(intent, snapshot.knownDestinations),
  });
  const decision = evaluate(intent, risk, snapshot, policy, now);
  return own ? withinPrincipalBudget(decision, evaluate(intent, risk, snapshot, own, now)) : decision;
}

/** The intent's own signals, and for a request with destinations whether one was paid before. */
function riskSignals(intent: Intent, known: ReadonlySet<string>): MonitorSignals | undefined {
  if (intent.destinations.length === 0) return intent.signals;
  const paid = new Set([...known].map(normalizeDestination));
  const paidBefore = intent.destinations.some((d) => paid.has(normalizeDestination(d)));
  return { ...intent.signals, [PAID_BEFORE]: paidBefore };
}

function count(sync: SyncTx, text: string, params: readonly unknown[]): number {
  return Number(sync.get<{ n: number }>(text, params)?.n ?? 0);
}

/**
 * Judges one request against the budget as this unit sees it (the units before it included) and
 * records the decision: the request row, the reservation unless denied, and the audit record, all
 * in the caller's transaction. The ledger snapshot is read before anything is written (see
 * GroupCommit).
 *
 * With `signLocally` (an operation that signs locally), an allowed request is signed here, before
 * anything is written, and its rows are written once, already settled: the request done (or
 * failed), the ledger entry committed (or released), then the decision and the result records.
 * A `signLocally` that answers SIGNED_AFTER signs after this unit, in the same transaction
 * (admit-off-thread.ts): the rows are written as done and committed, the result still to come.
 */
export function admit(
  sync: SyncTx,
  ctx: GatewayContext,
  a: Admission,
  signLocally?: () => ExecutionOutcome | typeof SIGNED_AFTER,
): Admitted {
  const { identity, op, intent, requestId } = a;
  if (a.key) {
    const existing = sync.get<RequestTable>(
      'SELECT * FROM request WHERE identity = ? AND idempotency_key = ?',
      [identity, a.key],
    );
    if (existing) return { replay: existing };
  }
  const now = ctx.clock.now();
  const decision = assessAndEvaluate(
    intent,
    a.loaded.policy,
    (since, at) => ctx.ledger.snapshot(sync, intent, since, at),
    now,
    a.principal.budget,
  );
  if (
    decision.outcome === 'hold' &&
    count(sync, "SELECT count(*) AS n FROM request WHERE identity = ? AND status = 'held'", [identity]) >=
      MAX_PENDING_HOLDS
  ) {
    throw new WardenError(
      'RATE_LIMITED',
      `${MAX_PENDING_HOLDS} requests of this identity already wait for approval`,
      {
        operation: 'hold',
      },
    );
  }
  const keepPayload =
    decision.outcome === 'hold' ||
    (decision.code === 'RISK_TOO_HIGH' &&
      count(
        sync,
        "SELECT count(*) AS n FROM request WHERE identity = ? AND status = 'denied' AND payload IS NOT NULL",
        [identity],
      ) < MAX_ACCEPTABLE_DENIALS);
  const signed = decision.outcome === 'allow' && signLocally ? signLocally() : null;
  const after = signed === SIGNED_AFTER;
  const outcome = signed === SIGNED_AFTER ? null : signed;
  const at = now.toISOString();
  // Written once each, for the request row and again, copied, into the audit records.
  const intentCanonical = a.intentText;
  // The risk assessment named by its hash in the row and in the record, its text kept once.
  const decisionStored = storeDecision(sync, decision);
  const decisionCanonical = decisionStored.text;
  const resultText = outcome ? resultTextOf(outcome) : null;
  const columns = {
    id: requestId,
    intent_hash: a.intentHash,
    status: outcome ? outcome.status : after ? 'done' : STATUS_FOR[decision.outcome],
    hold_approvals: decision.hold?.approvals ?? 0,
    hold_delay_ms: (decision.hold?.delaySeconds ?? 0) * 1000,
    created_at: at,
  };
  const row: RequestTable = {
    ...columns,
    identity,
    token_id: a.principal.tokenId,
    protocol: op.protocol,
    action: op.action,
    operation: op.name,
    intent: intentCanonical.text,
    // Only a payload that may still be signed later is sealed and kept; an allowed request runs
    // from what was parsed, here and now.
    payload: keepPayload ? ctx.keyring.encrypt(op.encode(a.parsed), payloadAad(columns)) : null,
    idempotency_key: a.key,
    decision: decisionCanonical.text,
    ...(outcome
      ? resultColumns(outcome, resultText)
      : { result: null, error_code: decision.outcome === 'deny' ? decision.code : null }),
    scheduled_for: null,
    // Executing here, by this process: a start elsewhere takes it over only once this one is gone.
    executor: columns.status === 'executing' ? ctx.executor.id() : null,
    updated_at: at,
  };
  sync.run(
    `INSERT INTO request (id, identity, token_id, protocol, action, operation, intent, intent_hash, payload,
       idempotency_key, status, decision, hold_approvals, hold_delay_ms, result, error_code, executor, created_at,
       updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      row.id,
      row.identity,
      row.token_id,
      row.protocol,
      row.action,
      row.operation,
      row.intent,
      row.intent_hash,
      row.payload,
      row.idempotency_key,
      row.status,
      row.decision,
      row.hold_approvals,
      row.hold_delay_ms,
      row.result,
      row.error_code,
      row.executor,
      row.created_at,
      row.updated_at,
    ],
  );
  if (decision.outcome !== 'deny') {
    const spent = outcome?.status === 'done' ? outcome.spent : undefined;
    const settled = outcome
      ? { status: ledgerStatusOf(outcome), spent }
      : after
        ? { status: 'committed' as const, spent: undefined }
        : undefined;
    reserve(sync, requestId, intent, now, settled);
  }
  const audit = appendAuditInTx(
    sync,
    ctx.keyring,
    auditRecord({
      actor: actorOf(a.principal),
      identity,
      action: op.name,
      outcome: AUDIT_OUTCOME_FOR[decision.outcome],
      operationId: requestId,
      protocol: op.protocol,
      details: {
        intent: intentCanonical,
        decision: decisionCanonical,
        policyHash: a.loaded.hash,
        ...(a.principal.frontDoor === undefined ? {} : { frontDoor: a.principal.frontDoor }),
        ...(decision.code === 'RISK_TOO_HIGH' ? { acceptable: keepPayload } : {}),
      },
    }),
    ctx.clock,
  );
  const result = outcome
    ? appendResultRecord(sync, ctx, {
        requestId,
        op,
        intent,
        actor: actorOf(a.principal),
        outcome,
        resultText,
      })
    : null;
  return {
    decision,
    checkpointDue: audit.checkpointDue || (result?.checkpointDue ?? false),
    row,
    view: requestView(row, storedDecisionView(decisionStored)),
    executeAfter: decision.outcome === 'allow' && !outcome && !after,
  };
}
