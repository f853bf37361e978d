import { actorOf } from '../core/principal.ts';
import type { SchnorrThread } from '../keys/schnorr-thread.ts';
import type { ExecutionOutcome } from '../protocols/operation.ts';
import { LaterStep, type UnitResult } from '../store/later-step.ts';
import type { RequestTable } from '../store/schema.ts';
import type { SyncTx } from '../store/store.ts';
import { type Admission, type Admitted, admit, SIGNED_AFTER } from './admission.ts';
import type { GatewayContext } from './context.ts';
import { rebookCommitted } from './ledger.ts';
import type { Operations } from './operations.ts';
import { requestView, transition } from './requests.ts';
import { appendResultRecord, broken, contextOf, resultColumns, resultTextOf, runLocally } from './settle.ts';

/**
 * The unit of a request that signs locally when several share a batch. Its first step judges it
 * and, allowed, writes it as it will most likely end: the request done, its entry committed, the
 * decision recorded, so the next units are judged against it at once. Its signature is made on
 * the signing thread meanwhile, while this thread judges the batch's next units. The second step,
 * in the same transaction, writes the result and its record, or, if the signature failed, the
 * request failed and its entry released (kept counting if the failure is of an unknown kind).
 *
 * Nothing is released before the commit, as when it signs here. The first step alone is never
 * committed: a second step that throws fails the whole batch (store/later-step.ts).
 */
export function admitThenSignOffThread(
  sync: SyncTx,
  ctx: GatewayContext,
  operations: Operations,
  thread: SchnorrThread,
  admission: Admission,
): UnitResult<Admitted> {
  const admitted = admit(sync, ctx, admission, () => SIGNED_AFTER);
  if ('replay' in admitted || admitted.decision.outcome !== 'allow') return admitted;
  const { op, parsed, intent, requestId } = admission;
  const pending =
    signedOffThread(ctx, operations, thread, admission) ??
    Promise.resolve(runLocally(ctx, operations, op, parsed, intent, requestId));
  return new LaterStep(pending, (tx, signed): Admitted => {
    const outcome = signed.status === 'fulfilled' ? signed.value : broken(ctx, requestId, signed.reason);
    const row = recordOutcome(tx, ctx, admitted.row, outcome);
    const result = appendResultRecord(tx, ctx, {
      requestId,
      op,
      intent,
      actor: actorOf(admission.principal),
      outcome,
      resultText: resultTextOf(outcome),
    });
    return {
      ...admitted,
      checkpointDue: admitted.checkpointDue || result.checkpointDue,
      row,
      view: requestView(row, admitted.view.decision),
    };
  });
}

/** The row written done at admission, brought to the outcome; the row as it now is. */
function recordOutcome(
  sync: SyncTx,
  ctx: GatewayContext,
  row: RequestTable,
  outcome: ExecutionOutcome,
): RequestTable {
  const columns = resultColumns(outcome);
  if (outcome.status === 'done') {
    sync.run('UPDATE request SET result = ? WHERE id = ?', [columns.result, row.id]);
    return { ...row, ...columns };
  }
  const now = ctx.clock.now();
  transition(sync, row.id, ['done'], outcome.status, now, columns);
  rebookCommitted(sync, row.id, outcome.status === 'failed' ? 'released' : 'unknown', now);
  return { ...row, ...columns, status: outcome.status, updated_at: now.toISOString() };
}

/** The operation's signature on the thread; null when it has none there. Never rejects. */
function signedOffThread(
  ctx: GatewayContext,
  operations: Operations,
  thread: SchnorrThread,
  { op, parsed, intent, requestId }: Admission,
): Promise<ExecutionOutcome> | null {
  if (!op.signOffThread) return null;
  const context = contextOf(operations, op, intent, requestId, thread);
  if ('status' in context) return Promise.resolve(context);
  try {
    return (
      op
        .signOffThread(parsed, intent, context.signer)
        ?.catch((err: unknown) => broken(ctx, requestId, err)) ?? null
    );
  } catch (err) {
    return Promise.resolve(broken(ctx, requestId, err));
  }
}
