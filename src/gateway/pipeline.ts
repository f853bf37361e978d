import { appendAuditInTx } from '../audit/append.ts';
import { writeCheckpoint } from '../audit/checkpoint.ts';
import { type AuditEntry, auditRecord } from '../audit/entry.ts';
import type { Decision } from '../core/decision.ts';
import { isWardenError, WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import type { Intent } from '../core/intent.ts';
import { toJsonValue } from '../core/json.ts';
import { actorOf, type Principal } from '../core/principal.ts';
import { evaluate, type Policy, snapshotHorizon } from '../policy/index.ts';
import type { AnyOperation, ExecutionOutcome } from '../protocols/operation.ts';
import { RISK_CATALOG } from '../protocols/risk-catalog.ts';
import { assessRisk, toleranceFromPolicy } from '../risk/index.ts';
import type { RequestTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import type { GatewayContext } from './context.ts';
import { intentFromJson, intentJson, reviewDocument, reviewHash } from './intent-codec.ts';
import { loadSnapshot, reserve, settle } from './ledger.ts';
import type { Operations } from './operations.ts';
import { MAX_ACCEPTABLE_DENIALS, MAX_PENDING_HOLDS, payloadAad } from './payload.ts';
import { loadPolicy } from './policies.ts';
import {
  decisionJson,
  findByIdempotencyKey,
  getRequestRow,
  type RequestStatus,
  type RequestView,
  requestView,
  transition,
} from './requests.ts';

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

/** Only agents sign, each for its one identity and only with its capabilities. */
export function requireAgent(principal: Principal, capability: string): string {
  if (principal.role !== 'agent' || !principal.identity) {
    throw new WardenError('FORBIDDEN', 'only agent tokens may request signatures');
  }
  if (!(principal.capabilities as readonly string[]).includes(capability)) {
    throw new WardenError('FORBIDDEN', `this token lacks the ${capability} capability`, { capability });
  }
  return principal.identity;
}

/** Risk-denied requests of an identity whose payload is still kept for an operator to accept. */
export async function acceptableDenials(db: Db, identity: string): Promise<number> {
  const row = await db
    .selectFrom('request')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('identity', '=', identity)
    .where('status', '=', 'denied')
    .where('payload', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function assessAndEvaluate(
  intent: Intent,
  policy: Policy,
  snapshotFor: (since: Date, now: Date) => Promise<Parameters<typeof evaluate>[2]>,
  now: Date,
): Promise<Decision> {
  const risk = assessRisk(intent, {
    tolerance: toleranceFromPolicy(policy.risk?.tolerance),
    catalog: RISK_CATALOG,
  });
  return snapshotFor(snapshotHorizon(policy, now), now).then((snapshot) =>
    evaluate(intent, risk, snapshot, policy, now),
  );
}

/**
 * The one path, from a parsed request to a signed result:
 * intent → risk → policy → (ledger reservation + audit record, one transaction) → signer →
 * settle (commit or release + audit record). Dry runs stop after policy and write nothing.
 */
export class Pipeline {
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly operations: Operations,
  ) {}

  /** Waits for every execution in flight to settle (shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async dryRun(identity: string, op: AnyOperation, body: unknown) {
    const now = this.ctx.clock.now();
    const parsed = op.parse(body, now);
    const intent = await op.toIntent(parsed, this.operations.intentContext(op, identity));
    const loaded = await loadPolicy(this.ctx.store.db, identity);
    const decision = await assessAndEvaluate(
      intent,
      loaded.policy,
      (since, at) => loadSnapshot(this.ctx.store.db, intent, since, at),
      now,
    );
    return {
      dryRun: true as const,
      intent: toJsonValue(intent),
      decision: toJsonValue(decision),
      policy: { source: loaded.source, hash: loaded.hash },
    };
  }

  async submit(principal: Principal, op: AnyOperation, body: unknown): Promise<RequestView> {
    const identity = requireAgent(principal, op.capability);
    const { ctx } = this;
    const parsed = op.parse(body, ctx.clock.now());
    const key = op.idempotencyKey(parsed);
    if (key) {
      // A retry returns the first result without estimating fees or touching the ledger again.
      const existing = await findByIdempotencyKey(ctx.store.db, identity, key);
      if (existing) return this.#replay(existing, op.digest(parsed));
    }
    const intentContext = this.operations.intentContext(op, identity);
    const intent = await op.toIntent(parsed, intentContext);
    const hash = reviewHash(
      reviewDocument(op.name, intent, op.review(parsed, intent, intentContext.publicKeys).payload),
    );
    const loaded = await loadPolicy(ctx.store.db, identity);
    const requestId = randomId('req');

    const admitted = await ctx.store.transaction(async (tx) => {
      if (key) {
        const existing = await findByIdempotencyKey(tx, identity, key);
        if (existing) return { replay: existing };
      }
      const now = ctx.clock.now();
      const decision = await assessAndEvaluate(
        intent,
        loaded.policy,
        (since, at) => ctx.ledger.snapshot(tx, intent, since, at),
        now,
      );
      if (decision.outcome === 'hold') {
        const pending = await tx
          .selectFrom('request')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('identity', '=', identity)
          .where('status', '=', 'held')
          .executeTakeFirstOrThrow();
        if (Number(pending.n) >= MAX_PENDING_HOLDS) {
          throw new WardenError(
            'RATE_LIMITED',
            `${MAX_PENDING_HOLDS} requests of this identity already wait for approval`,
            {
              operation: 'hold',
            },
          );
        }
      }
      const keepPayload =
        decision.outcome === 'hold' ||
        (decision.code === 'RISK_TOO_HIGH' &&
          (await acceptableDenials(tx, identity)) < MAX_ACCEPTABLE_DENIALS);
      const columns = {
        id: requestId,
        intent_hash: hash,
        status: STATUS_FOR[decision.outcome],
        hold_approvals: decision.hold?.approvals ?? 0,
        hold_delay_ms: (decision.hold?.delaySeconds ?? 0) * 1000,
        created_at: now.toISOString(),
      };
      // Only a payload that may still be signed later is sealed and kept; an allowed request
      // runs from what was parsed, here and now.
      const payload = keepPayload ? await ctx.keyring.encrypt(op.encode(parsed), payloadAad(columns)) : null;
      await tx
        .insertInto('request')
        .values({
          ...columns,
          identity,
          token_id: principal.tokenId,
          protocol: op.protocol,
          action: op.action,
          operation: op.name,
          intent: intentJson(intent),
          payload,
          idempotency_key: key,
          decision: decisionJson(decision),
          result: null,
          error_code: decision.outcome === 'deny' ? decision.code : null,
          updated_at: now.toISOString(),
        })
        .execute();
      if (decision.outcome !== 'deny') await reserve(tx, requestId, intent, now);
      const audit = await appendAuditInTx(
        tx,
        ctx.keyring,
        auditRecord({
          actor: actorOf(principal),
          identity,
          action: op.name,
          outcome: AUDIT_OUTCOME_FOR[decision.outcome],
          operationId: requestId,
          protocol: op.protocol,
          details: {
            intent,
            decision,
            policyHash: loaded.hash,
            ...(decision.code === 'RISK_TOO_HIGH' ? { acceptable: keepPayload } : {}),
          },
        }),
        ctx.clock,
      );
      return { decision, checkpointDue: audit.checkpointDue };
    });
    if ('replay' in admitted) return this.#replay(admitted.replay, intent.payloadDigest);
    if (admitted.checkpointDue) this.#checkpoint();
    ctx.logger.info(
      { operationId: requestId, operation: op.name, outcome: admitted.decision.outcome },
      'request decided',
    );
    if (admitted.decision.outcome === 'allow')
      await this.execute(requestId, op, parsed, intent, actorOf(principal));
    return requestView(await getRequestRow(ctx.store.db, requestId));
  }

  /** Runs an admitted request (status `executing`) and settles its reservation and audit trail. */
  async execute(
    requestId: string,
    op: AnyOperation,
    parsed: unknown,
    intent: Intent,
    actor: string,
  ): Promise<void> {
    const run = this.#execute(requestId, op, parsed, intent, actor);
    this.#inFlight.add(run);
    try {
      await run;
    } finally {
      this.#inFlight.delete(run);
    }
  }

  async #execute(
    requestId: string,
    op: AnyOperation,
    parsed: unknown,
    intent: Intent,
    actor: string,
  ): Promise<void> {
    const { ctx } = this;
    let outcome: ExecutionOutcome;
    try {
      outcome = await this.#run(requestId, op, parsed, intent);
    } catch (err) {
      // Fail secure: an execution that broke in an unknown way keeps its reservation counted.
      ctx.logger.error({ operationId: requestId, err }, 'execution failed unexpectedly');
      outcome = { status: 'unknown', code: 'INTERNAL', message: 'execution ended in an unknown state' };
    }
    const now = ctx.clock.now();
    const ledgerStatus =
      outcome.status === 'done' ? 'committed' : outcome.status === 'failed' ? 'released' : 'unknown';
    const result = 'result' in outcome && outcome.result ? JSON.stringify(toJsonValue(outcome.result)) : null;
    await ctx.store.transaction(async (tx) => {
      const moved = await transition(tx, requestId, ['executing'], outcome.status, now, {
        result,
        error_code: outcome.status === 'done' ? null : outcome.code,
        payload: null,
      });
      if (!moved) {
        // Reconciled by an operator while it ran: keep their verdict, but say loudly what happened.
        ctx.logger.error(
          { operationId: requestId, status: outcome.status },
          'request settled by reconcile while executing',
        );
      } else {
        await settle(tx, requestId, ledgerStatus, now, outcome.status === 'done' ? outcome.spent : undefined);
      }
      await appendAuditInTx(
        tx,
        ctx.keyring,
        auditRecord({
          actor,
          identity: intent.identity,
          action: `${op.name}.result`,
          outcome: outcome.status === 'done' ? 'ok' : outcome.status === 'failed' ? 'failed' : 'error',
          operationId: requestId,
          protocol: intent.protocol,
          details: {
            status: outcome.status,
            ledger: ledgerStatus,
            ...(outcome.status === 'done' ? { result: outcome.result } : { code: outcome.code }),
          },
        }),
        ctx.clock,
      );
    });
    ctx.logger.info({ operationId: requestId, status: outcome.status }, 'request settled');
  }

  /** The execution with its narrow context; an identity without the key it needs signs nothing. */
  async #run(
    requestId: string,
    op: AnyOperation,
    parsed: unknown,
    intent: Intent,
  ): Promise<ExecutionOutcome> {
    let execution: ReturnType<Operations['executionContext']>;
    try {
      execution = this.operations.executionContext(op, intent.identity, requestId);
    } catch (err) {
      const code = isWardenError(err) ? err.code : 'SIGNING_FAILED';
      return { status: 'failed', code, message: 'nothing was signed' };
    }
    return op.execute(parsed, intent, execution);
  }

  /** A retry returns the first request's state, if it is the same request. */
  async #replay(existing: RequestTable, digest: string): Promise<RequestView> {
    if (intentFromJson(existing.intent).payloadDigest !== digest) {
      throw new WardenError('IDEMPOTENCY_CONFLICT', 'this idempotency key was used for a different request', {
        requestId: existing.id,
      });
    }
    return requestView(await getRequestRow(this.ctx.store.db, existing.id));
  }

  #checkpoint(): void {
    writeCheckpoint(this.ctx.store, this.ctx.keyring, this.ctx.clock, this.ctx.auditHead).catch((err) =>
      this.ctx.logger.warn({ err }, 'audit checkpoint failed; it stays due'),
    );
  }
}
