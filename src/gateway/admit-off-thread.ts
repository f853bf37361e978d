import type { CanonicalText } from '../core/canonical.ts';
import { WardenError } from '../core/errors.ts';
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
import { appendResultRecord, broken, resultColumns, resultTextOf, runLocally, withSigner } from './settle.ts';

/**
 * The unit of a request that signs locally when several share a batch. Its first step judges it
 * and, allowed, writes it as it will most likely end: the request done, its entry committed, the
 * decision recorded, so the next units are judged against it at once. Its signature is made on
 * the signing thread meanwhile, while this thread judges the batch's next units. The second step,
 * in the same transaction, writes the result and its record, or, if the signature failed, the
 * request failed and its entry released (kept counting if the failure is of an unknown kind).
 *
 * When the thread itself failed (its worker died or hung), the second step signs here instead: a
 * request is not refused for the thread's fault. Nothing is released before the commit, as when
 * it signs here; a second step that cannot be written is abandoned as failed (later-step.ts).
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
  const signLocally = () => runLocally(ctx, operations, op, parsed, intent, requestId);
  const pending = signedOffThread(ctx, operations, thread, admission) ?? Promise.resolve(signLocally());
  const settle = (tx: SyncTx, outcome: ExecutionOutcome): Admitted => {
    const { row, resultText } = recordOutcome(tx, ctx, admitted.row, outcome);
    const result = appendResultRecord(tx, ctx, {
      requestId,
      op,
      intent,
      actor: actorOf(admission.principal),
      outcome,
      resultText,
    });
    return {
      ...admitted,
      checkpointDue: admitted.checkpointDue || result.checkpointDue,
      row,
      view: requestView(row, admitted.view.decision),
    };
  };
  return new LaterStep(
    pending,
    (tx, signed): Admitted => {
      let outcome = signed.status === 'fulfilled' ? signed.value : broken(ctx, requestId, signed.reason);
      if (outcome.status === 'failed' && outcome.code === 'SIGNING_FAILED' && !thread.healthy)
        outcome = signLocally();
      return settle(tx, outcome);
    },
    (tx, err) => {
      ctx.logger.error(
        { operationId: requestId, err },
        'a signature could not be recorded; it was not released',
      );
      settle(tx, { status: 'failed', code: 'INTERNAL', message: 'the signature could not be recorded' });
    },
  );
}

/**
 * The row written done at admission, brought to the outcome: the row as it now is, and the
 * result's text. Each statement must change exactly that row, else nothing of this step stands
 * (it throws).
 */
function recordOutcome(
  sync: SyncTx,
  ctx: GatewayContext,
  row: RequestTable,
  outcome: ExecutionOutcome,
): { row: RequestTable; resultText: CanonicalText | null } {
  const resultText = resultTextOf(outcome);
  const columns = resultColumns(outcome, resultText);
  const unchanged = () => new WardenError('INTERNAL', 'the admitted request is not as its admission left it');
  if (outcome.status === 'done') {
    // Its entry was booked at the reservation's worst case: an operation that learns what it
    // spent is not signed off the thread.
    if (outcome.spent !== undefined) throw new WardenError('INTERNAL', 'a spend cannot be booked here');
    const changed = sync.run(
      "UPDATE request SET result = ? WHERE id = ? AND status = 'done' AND result IS NULL",
      [columns.result, row.id],
    );
    if (changed !== 1) throw unchanged();
    return { row: { ...row, ...columns }, resultText };
  }
  const now = ctx.clock.now();
  if (!transition(sync, row.id, ['done'], outcome.status, now, columns)) throw unchanged();
  if (rebookCommitted(sync, row.id, outcome.status === 'failed' ? 'released' : 'unknown', now) !== 1)
    throw unchanged();
  return { row: { ...row, ...columns, status: outcome.status, updated_at: now.toISOString() }, resultText };
}

/** The operation's signature on the thread; null when it has none there. Never rejects. */
function signedOffThread(
  ctx: GatewayContext,
  operations: Operations,
  thread: SchnorrThread,
  admission: Admission,
): Promise<ExecutionOutcome> | null {
  const { op, parsed, intent, requestId } = admission;
  if (!op.signOffThread) return null;
  const signed = withSigner(ctx, operations, admission, thread, (signer) =>
    op.signOffThread!(parsed, intent, signer),
  );
  if (signed === null) return null;
  if (signed instanceof Promise) return signed.catch((err: unknown) => broken(ctx, requestId, err));
  return Promise.resolve(signed);
}
