import { appendAuditInTx } from '../audit/append.ts';
import { auditRecord } from '../audit/entry.ts';
import type { CanonicalText } from '../core/canonical.ts';
import { isWardenError, WardenError } from '../core/errors.ts';
import type { Intent } from '../core/intent.ts';
import { canonicalTextOf } from '../core/json.ts';
import type { SchnorrThread } from '../keys/schnorr-thread.ts';
import type { AnyOperation, ExecutionOutcome } from '../protocols/operation.ts';
import type { RequestTable } from '../store/schema.ts';
import type { SyncTx } from '../store/store.ts';
import type { GatewayContext } from './context.ts';
import { settle } from './ledger.ts';
import type { Operations } from './operations.ts';
import { type RequestStatus, transition } from './requests.ts';

type Context = ReturnType<Operations['executionContext']>;

/** The execution's narrow context; an identity without the key it needs signs nothing (released). */
function contextOf(
  operations: Operations,
  op: AnyOperation,
  intent: Intent,
  requestId: string,
  thread?: SchnorrThread,
): Context | ExecutionOutcome {
  try {
    return operations.executionContext(op, intent.identity, requestId, thread);
  } catch (err) {
    const code = isWardenError(err) ? err.code : 'SIGNING_FAILED';
    return { status: 'failed', code, message: 'nothing was signed' };
  }
}

/** Fail secure: an execution that broke in an unknown way keeps its reservation counted. */
export function broken(ctx: GatewayContext, requestId: string, err: unknown): ExecutionOutcome {
  ctx.logger.error({ operationId: requestId, err }, 'execution failed unexpectedly');
  return { status: 'unknown', code: 'INTERNAL', message: 'execution ended in an unknown state' };
}

/** Signs an operation that signs locally; synchronous, so it runs inside a group-commit unit. */
export function runLocally(
  ctx: GatewayContext,
  operations: Operations,
  op: AnyOperation,
  parsed: unknown,
  intent: Intent,
  requestId: string,
): ExecutionOutcome {
  return withSigner(ctx, operations, { op, intent, requestId }, undefined, (signer) => {
    if (!op.sign) throw new WardenError('INTERNAL', `operation ${op.name} does not sign locally`);
    return op.sign(parsed, intent, signer);
  });
}

/**
 * `sign` with the signer the operation declared (made with the signing `thread`, if given), or
 * the outcome that says why it could not: no such key (released), or a throw (unknown).
 */
export function withSigner<T>(
  ctx: GatewayContext,
  operations: Operations,
  { op, intent, requestId }: { op: AnyOperation; intent: Intent; requestId: string },
  thread: SchnorrThread | undefined,
  sign: (signer: Context['signer']) => T,
): T | ExecutionOutcome {
  const context = contextOf(operations, op, intent, requestId, thread);
  if ('status' in context) return context;
  try {
    return sign(context.signer);
  } catch (err) {
    return broken(ctx, requestId, err);
  }
}

/** Runs an operation that sends (a broadcast): asynchronous, between its admission and its settlement. */
export async function sendOutcome(
  ctx: GatewayContext,
  operations: Operations,
  op: AnyOperation,
  parsed: unknown,
  intent: Intent,
  requestId: string,
): Promise<ExecutionOutcome> {
  const context = contextOf(operations, op, intent, requestId);
  if ('status' in context) return context;
  try {
    if (!op.execute) throw new WardenError('INTERNAL', `operation ${op.name} has no execution`);
    return await op.execute(parsed, intent, context);
  } catch (err) {
    return broken(ctx, requestId, err);
  }
}

export interface Settlement {
  requestId: string;
  op: AnyOperation;
  intent: Intent;
  actor: string;
  outcome: ExecutionOutcome;
  /** `resultTextOf(outcome)`, when the caller wrote it already (into the request row). */
  resultText?: CanonicalText | null;
  /** How long a send waited for its timing jitter, and why (pipeline.ts), for the result record. */
  jitter?: Record<string, unknown>;
}

/** Where an outcome leaves the reservation: committed (done), released (failed) or still counting. */
export function ledgerStatusOf(outcome: ExecutionOutcome): 'committed' | 'released' | 'unknown' {
  return outcome.status === 'done' ? 'committed' : outcome.status === 'failed' ? 'released' : 'unknown';
}

/** An outcome's result as JSON, written once for the request row and the result record. */
export function resultTextOf(outcome: ExecutionOutcome): CanonicalText | null {
  return 'result' in outcome && outcome.result ? canonicalTextOf(outcome.result) : null;
}

/** The request row's columns an outcome sets. */
export function resultColumns(
  outcome: ExecutionOutcome,
  resultText: CanonicalText | null = resultTextOf(outcome),
): {
  result: string | null;
  error_code: string | null;
} {
  return {
    result: resultText ? resultText.text : null,
    error_code: outcome.status === 'done' ? null : outcome.code,
  };
}

/** The audit record of an execution's end (`<operation>.result`), in the caller's transaction. */
export function appendResultRecord(sync: SyncTx, ctx: GatewayContext, s: Settlement) {
  const { outcome, requestId, intent } = s;
  return appendAuditInTx(
    sync,
    ctx.keyring,
    auditRecord({
      actor: s.actor,
      identity: intent.identity,
      action: `${s.op.name}.result`,
      outcome: outcome.status === 'done' ? 'ok' : outcome.status === 'failed' ? 'failed' : 'error',
      operationId: requestId,
      protocol: intent.protocol,
      details: {
        status: outcome.status,
        ledger: ledgerStatusOf(outcome),
        ...(outcome.status === 'done' ? { result: s.resultText ?? outcome.result } : { code: outcome.code }),
        ...(s.jitter ? { jitter: s.jitter } : {}),
      },
    }),
    ctx.clock,
  );
}

export interface Settled {
  status: RequestStatus;
  checkpointDue: boolean;
  /** The request row as settled (undefined when reconcile had settled it already). */
  row: RequestTable | undefined;
}

/**
 * The end of an execution, in the caller's transaction: the request moves from `executing` to
 * its outcome, the reservation is committed (done), released (failed) or kept counting (unknown),
 * and the result is appended to the audit log.
 */
export function settleExecution(sync: SyncTx, ctx: GatewayContext, s: Settlement): Settled {
  const { outcome, requestId } = s;
  const now = ctx.clock.now();
  const ledgerStatus = ledgerStatusOf(outcome);
  const resultText = resultTextOf(outcome);
  const changed = { ...resultColumns(outcome, resultText), payload: null };
  const moved = transition(sync, requestId, ['executing'], outcome.status, now, changed);
  if (!moved) {
    // Reconciled by an operator while it ran: keep their verdict, but say loudly what happened.
    ctx.logger.error(
      { operationId: requestId, status: outcome.status },
      'request settled by reconcile while executing',
    );
  } else {
    settle(sync, requestId, ledgerStatus, now, outcome.status === 'done' ? outcome.spent : undefined);
  }
  const audit = appendResultRecord(sync, ctx, { ...s, resultText });
  const row = moved ? sync.get<RequestTable>('SELECT * FROM request WHERE id = ?', [requestId]) : undefined;
  return { status: outcome.status, checkpointDue: audit.checkpointDue, row };
}
