import { writeCheckpoint } from '../audit/checkpoint.ts';
import { WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import type { Intent } from '../core/intent.ts';
import { toJsonValue } from '../core/json.ts';
import { actorOf, type Principal } from '../core/principal.ts';
import type { AnyOperation } from '../protocols/operation.ts';
import type { RequestTable } from '../store/schema.ts';
import type { SyncTx } from '../store/store.ts';
import { type Admission, type Admitted, admit, assessAndEvaluate } from './admission.ts';
import type { GatewayContext } from './context.ts';
import { GroupCommit } from './group-commit.ts';
import { intentFromJson, reviewDocument, reviewHash } from './intent-codec.ts';
import { loadSnapshot } from './ledger.ts';
import type { Operations } from './operations.ts';
import { loadPolicy } from './policies.ts';
import { findByIdempotencyKey, getRequestRow, type RequestView, requestView } from './requests.ts';
import { runLocally, sendOutcome, settleExecution } from './settle.ts';

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

/**
 * The least time between two checkpoints a busy server writes. A checkpoint is due every 100
 * records, and under load they would run back to back (each signs, writes and fsyncs the anchor
 * file, and walks the records since the last for the verified mark): this spacing bounds that
 * cost, while the records a checkpoint does not yet cover stay bounded in time (a second) as
 * they are in number when the server is quiet.
 */
export const MIN_CHECKPOINT_INTERVAL_MS = 1000;

/**
 * The one path, from a parsed request to a signed result:
 * intent → risk → policy → (ledger reservation + audit record) → signer → settle (commit or
 * release + audit record). Admission runs as a unit of a group commit: requests arriving together
 * share one transaction, each judged in order. An operation that signs locally signs inside its
 * admitting unit, so one transaction records the decision, the signature and the settled ledger,
 * and the signature leaves only after that commit. An operation that sends (a broadcast) settles
 * in a unit of its own after the network answered. Dry runs stop after policy and write nothing.
 */
export class Pipeline {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #commits: GroupCommit;
  #checkpointing = false;
  #checkpointAgain = false;
  /** When the last checkpoint of this pipeline ended (monotonic ms), and the one waiting for it. */
  #lastCheckpointEnd = Number.NEGATIVE_INFINITY;
  #checkpointTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly operations: Operations,
  ) {
    this.#commits = new GroupCommit(ctx.store);
  }

  /** Waits for every execution in flight to settle (shutdown; the closing Warden checkpoints the rest). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = null;
  }

  async dryRun(identity: string, op: AnyOperation, body: unknown) {
    const now = this.ctx.clock.now();
    const parsed = op.parse(body, now);
    const intent = await op.toIntent(parsed, this.operations.intentContext(op, identity));
    const loaded = await loadPolicy(this.ctx.store.db, identity);
    // A unit that writes nothing: it reads the window as the next admission would.
    const decision = await this.#commits.run((sync) =>
      assessAndEvaluate(intent, loaded.policy, (since, at) => loadSnapshot(sync, intent, since, at), now),
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
    const admission: Admission = {
      principal,
      identity,
      op,
      parsed,
      intent,
      key,
      requestId: randomId('req'),
      intentHash: reviewHash(
        reviewDocument(op.name, intent, op.review(parsed, intent, intentContext.publicKeys).payload),
      ),
      loaded: await loadPolicy(ctx.store.db, identity),
    };
    const admitted = await this.#commits.run((sync) => this.#admitUnit(sync, admission));
    if ('replay' in admitted) return this.#replay(admitted.replay, intent.payloadDigest);
    if (admitted.checkpointDue) this.#checkpoint();
    ctx.logger.info(
      { operationId: admission.requestId, operation: op.name, outcome: admitted.decision.outcome },
      'request decided',
    );
    if (admitted.executeAfter)
      await this.execute(admission.requestId, op, parsed, intent, actorOf(principal));
    else return requestView(admitted.row);
    return requestView(await getRequestRow(ctx.store.db, admission.requestId));
  }

  /** Admission, and for an allowed request that signs locally, the signature, settled at once. */
  #admitUnit(sync: SyncTx, admission: Admission): Admitted {
    const { op, parsed, intent, requestId } = admission;
    const signLocally = op.sign
      ? () => runLocally(this.ctx, this.operations, op, parsed, intent, requestId)
      : undefined;
    return admit(sync, this.ctx, admission, signLocally);
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
    // A request released from a hold that signs locally signs and settles in one unit too.
    const settled = op.sign
      ? await this.#commits.run((sync) =>
          settleExecution(sync, ctx, {
            requestId,
            op,
            intent,
            actor,
            outcome: runLocally(ctx, this.operations, op, parsed, intent, requestId),
          }),
        )
      : await this.#sendAndSettle(requestId, op, parsed, intent, actor);
    if (settled.checkpointDue) this.#checkpoint();
    ctx.logger.info({ operationId: requestId, status: settled.status }, 'request settled');
  }

  async #sendAndSettle(requestId: string, op: AnyOperation, parsed: unknown, intent: Intent, actor: string) {
    const { ctx } = this;
    const outcome = await sendOutcome(ctx, this.operations, op, parsed, intent, requestId);
    return this.#commits.run((sync) => settleExecution(sync, ctx, { requestId, op, intent, actor, outcome }));
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

  /**
   * One checkpoint at a time: units of one batch all report it due, and one written after their
   * commit covers them all. A request for one while another is being written runs once after it.
   */
  #checkpoint(): void {
    if (this.#checkpointing) {
      this.#checkpointAgain = true;
      return;
    }
    const wait = this.#lastCheckpointEnd + MIN_CHECKPOINT_INTERVAL_MS - performance.now();
    if (wait > 0) {
      // Not kept alive for it: a server that stops checkpoints on close.
      this.#checkpointTimer ??= setTimeout(() => {
        this.#checkpointTimer = null;
        this.#checkpoint();
      }, wait).unref();
      return;
    }
    this.#checkpointing = true;
    writeCheckpoint(this.ctx.store, this.ctx.keyring, this.ctx.clock, this.ctx.auditHead)
      .catch((err) => this.ctx.logger.warn({ err }, 'audit checkpoint failed; it stays due'))
      .finally(() => {
        this.#lastCheckpointEnd = performance.now();
        this.#checkpointing = false;
        if (this.#checkpointAgain) {
          this.#checkpointAgain = false;
          this.#checkpoint();
        }
      });
  }
}
