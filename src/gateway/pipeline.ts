import { setTimeout as sleep } from 'node:timers/promises';
import { writeCheckpoint } from '../audit/checkpoint.ts';
import { TailVerifier } from '../audit/tail-verifier.ts';
import { WardenError } from '../core/errors.ts';
import { timeOrderedId } from '../core/ids.ts';
import type { Intent } from '../core/intent.ts';
import { toJsonValue } from '../core/json.ts';
import { actorOf, type Principal } from '../core/principal.ts';
import { SchnorrThread } from '../keys/schnorr-thread.ts';
import type { JitterScheduler } from '../net/jitter.ts';
import type { AnyOperation, ExecutionOutcome } from '../protocols/operation.ts';
import type { UnitResult } from '../store/later-step.ts';
import type { RequestTable } from '../store/schema.ts';
import type { SyncTx } from '../store/store.ts';
import { type Admission, type Admitted, admit, assessAndEvaluate } from './admission.ts';
import { admitThenSignOffThread } from './admit-off-thread.ts';
import type { GatewayContext } from './context.ts';
import { GroupCommit } from './group-commit.ts';
import { intentFromJson, intentText, newReviewHash } from './intent-codec.ts';
import { loadSnapshot } from './ledger.ts';
import type { Operations } from './operations.ts';
import { loadPolicy } from './policies.ts';
import { scopedIntent } from './principal-budget.ts';
import { findByIdempotencyKey, getRequestRow, loadRequestView, type RequestView } from './requests.ts';
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

/** What a send's wait for its jitter delay leaves: the result record's detail, and a refusal. */
interface Waited {
  detail: Record<string, unknown>;
  /** Set when the request was reconciled while it waited: it is not sent. */
  notPending?: ExecutionOutcome;
}

/**
 * The batch size from which requests that can are signed on the signing thread. Batches of 8
 * (8 in flight) lost 4–8 % that way: their signatures come back while this thread has little else
 * to judge, and the round trip is paid; at 64 in flight (batches of about 50) it gains 1.2–1.4×.
 */
const SIGN_OFF_THREAD_FROM = 16;

/**
 * The one path, from a parsed request to a signed result:
 * intent → risk → policy → (ledger reservation + audit record) → signer → settle (commit or
 * release + audit record). Admission runs as a unit of a group commit: requests arriving together
 * share one transaction, each judged in order. An operation that signs locally signs inside its
 * admitting unit, so one transaction records the decision, the signature and the settled ledger,
 * and the signature leaves only after that commit (in a batch of several, on the signing thread
 * while the batch's next units are judged: admit-off-thread.ts). An operation that sends (a broadcast) settles
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
  /** The checkpoint being written, for drain to wait for. */
  #checkpointRun: Promise<void> | null = null;
  /** Walks the log for the verified mark off this thread (null: a database only this connection sees). */
  readonly #tails: TailVerifier | null;
  readonly #signing: SchnorrThread;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly operations: Operations,
    /** Timing jitter of sends (null: off, a send leaves as soon as it is admitted). */
    private readonly jitter: JitterScheduler | null = null,
    /** libsecp256k1 on a worker thread, for the batches that sign several requests. */
    signing?: SchnorrThread,
  ) {
    this.#signing = signing ?? new SchnorrThread({ log: (message) => ctx.logger.warn({}, message) });
    this.#commits = new GroupCommit(ctx.store);
    this.#tails =
      ctx.store.path === null
        ? null
        : new TailVerifier(ctx.store.path, { log: (message) => ctx.logger.warn({}, message) });
  }

  /** Waits for every execution in flight to settle (shutdown; the closing Warden checkpoints the rest). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    // The walk under way comes to no mark at once; its checkpoint is still signed, before the store closes.
    await this.#tails?.close();
    // A batch still waiting for its signatures gets them before the thread stops.
    await this.#commits.idle();
    await this.#signing.close();
    while (this.#checkpointRun) await this.#checkpointRun;
    if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = null;
  }

  async dryRun(identity: string, op: AnyOperation, body: unknown) {
    const now = this.ctx.clock.now();
    const parsed = op.parse(body, now);
    // The policy first: an operation may choose within its caps (an amount jitter) before judgement.
    const loaded = await loadPolicy(this.ctx.store.db, identity);
    const intent = await op.toIntent(parsed, this.operations.intentContext(op, identity, loaded.policy));
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
    // The policy the request is judged by, loaded first: an operation may choose within its caps.
    const loaded = await loadPolicy(ctx.store.db, identity);
    const intentContext = this.operations.intentContext(op, identity, loaded.policy);
    const intent = scopedIntent(await op.toIntent(parsed, intentContext), principal);
    const intentCanonical = intentText(intent);
    const admission: Admission = {
      principal,
      identity,
      op,
      parsed,
      intent,
      key,
      requestId: timeOrderedId('req'),
      intentText: intentCanonical,
      intentHash: newReviewHash(
        op.name,
        intentCanonical,
        op.review(parsed, intent, intentContext.publicKeys).payload,
      ),
      loaded,
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
    else return admitted.view;
    return loadRequestView(ctx.store.db, await getRequestRow(ctx.store.db, admission.requestId));
  }

  /**
   * Admission, and for an allowed request that signs locally, the signature, settled at once: on
   * the signing thread when the batch has other units to judge meanwhile, here otherwise (alone, a
   * request would only wait for the thread's answer).
   */
  #admitUnit(sync: SyncTx, admission: Admission): UnitResult<Admitted> {
    const { op, parsed, intent, requestId } = admission;
    // The batch's size counts every unit (settlements too): a rough measure of the work at hand.
    if (op.signOffThread && this.#commits.batchSize >= SIGN_OFF_THREAD_FROM && this.#signing.healthy)
      return admitThenSignOffThread(sync, this.ctx, this.operations, this.#signing, admission);
    const signLocally = op.sign
      ? () => runLocally(this.ctx, this.operations, op, parsed, intent, requestId)
      : undefined;
    return admit(sync, this.ctx, admission, signLocally);
  }

  /**
   * Runs an admitted request (status `executing`) and settles its reservation and audit trail.
   * Resolves when it is settled, or, for a send held back by timing jitter, as soon as it is
   * scheduled (its row shows when it is due): the send then runs on its own, in flight until it
   * settles (drain waits for it), and a failure past that point goes to the log.
   */
  async execute(
    requestId: string,
    op: AnyOperation,
    parsed: unknown,
    intent: Intent,
    actor: string,
  ): Promise<void> {
    let detached = false;
    let onScheduled = () => {};
    const scheduled = new Promise<void>((resolve) => {
      onScheduled = () => {
        detached = true;
        resolve();
      };
    });
    const run = this.#execute(requestId, op, parsed, intent, actor, () => onScheduled());
    const tracked: Promise<void> = run
      .catch((err: unknown) => {
        // Before it was scheduled, the caller hears of it (the race below); after, only the log.
        if (detached) this.ctx.logger.error({ operationId: requestId, err }, 'scheduled execution failed');
      })
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
    await Promise.race([run, scheduled]);
  }

  async #execute(
    requestId: string,
    op: AnyOperation,
    parsed: unknown,
    intent: Intent,
    actor: string,
    onScheduled: () => void,
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
      : await this.#sendAndSettle(requestId, op, parsed, intent, actor, onScheduled);
    if (settled.checkpointDue) this.#checkpoint();
    ctx.logger.info({ operationId: requestId, status: settled.status }, 'request settled');
  }

  async #sendAndSettle(
    requestId: string,
    op: AnyOperation,
    parsed: unknown,
    intent: Intent,
    actor: string,
    onScheduled: () => void,
  ) {
    const { ctx } = this;
    const waited =
      this.jitter && !op.publishesNothing
        ? await this.#waitForJitter(this.jitter, requestId, intent, onScheduled)
        : null;
    const outcome =
      waited?.notPending ?? (await sendOutcome(ctx, this.operations, op, parsed, intent, requestId));
    const jitter = waited ? { jitter: waited.detail } : {};
    return this.#commits.run((sync) =>
      settleExecution(sync, ctx, { requestId, op, intent, actor, outcome, ...jitter }),
    );
  }

  /**
   * Holds a send back for its identity's jitter delay. While it waits, its row says when it is
   * due (`scheduled_for`; shown as `scheduled`); the status stays `executing`, so a crash leaves
   * it to reconcile like any execution (nothing was signed yet). The delay is real time; when it
   * is due is told by the gateway's clock. An operator who reconciled it meanwhile has the last
   * word: it is not sent.
   */
  async #waitForJitter(
    jitter: JitterScheduler,
    requestId: string,
    intent: Intent,
    onScheduled: () => void,
  ): Promise<Waited> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const draw = jitter.delayFor(intent.identity, now.getTime());
    const scheduledFor = new Date(draw.sendAt).toISOString();
    const detail: Record<string, unknown> = {
      delayMs: draw.delayMs,
      scheduledFor,
      rangeMs: [draw.range.minMs, draw.range.maxMs],
      widened: draw.widened,
      ...(draw.pattern
        ? { pattern: { source: draw.pattern.source, cv: Math.round(draw.pattern.cv * 1000) / 1000 } }
        : {}),
    };
    if (draw.alert && draw.pattern)
      ctx.logger.warn(
        {
          operationId: requestId,
          source: draw.pattern.source,
          cv: Math.round(draw.pattern.cv * 1000) / 1000,
          widenedMaxMs: draw.range.maxMs,
        },
        'regular timing pattern: jitter range widened for this identity',
      );
    if (draw.delayMs > 0) {
      const marked = await this.#commits.run(
        (sync) =>
          sync.run(
            "UPDATE request SET scheduled_for = ?, updated_at = ? WHERE id = ? AND status = 'executing'",
            [scheduledFor, now.toISOString(), requestId],
          ) === 1,
      );
      const notPending: Waited = {
        detail,
        notPending: {
          status: 'failed',
          code: 'REQUEST_NOT_PENDING',
          message: 'reconciled before it was sent; nothing was signed',
        },
      };
      if (!marked) return notPending;
      onScheduled();
      await sleep(draw.delayMs);
      const due = ctx.clock.now().toISOString();
      const still = await this.#commits.run(
        (sync) =>
          sync.run(
            "UPDATE request SET scheduled_for = NULL, updated_at = ? WHERE id = ? AND status = 'executing'",
            [due, requestId],
          ) === 1,
      );
      if (!still) return notPending;
    }
    jitter.sent(intent.identity, ctx.clock.now().getTime());
    return { detail };
  }

  /** A retry returns the first request's state, if it is the same request. */
  async #replay(existing: RequestTable, digest: string): Promise<RequestView> {
    if (intentFromJson(existing.intent).payloadDigest !== digest) {
      throw new WardenError('IDEMPOTENCY_CONFLICT', 'this idempotency key was used for a different request', {
        requestId: existing.id,
      });
    }
    return loadRequestView(this.ctx.store.db, await getRequestRow(this.ctx.store.db, existing.id));
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
    this.#checkpointRun = writeCheckpoint(
      this.ctx.store,
      this.ctx.keyring,
      this.ctx.clock,
      this.ctx.auditHead,
      this.#tails ?? undefined,
    )
      .catch((err) => this.ctx.logger.warn({ err }, 'audit checkpoint failed; it stays due'))
      .then(() => undefined)
      .finally(() => {
        this.#checkpointRun = null;
        this.#lastCheckpointEnd = performance.now();
        this.#checkpointing = false;
        if (this.#checkpointAgain) {
          this.#checkpointAgain = false;
          this.#checkpoint();
        }
      });
  }
}
