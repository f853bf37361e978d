/**
 * Requests left `executing` by a process that is gone (`kill -9`, a power cut): nothing will ever
 * settle them, and until reconcile decides, their reservations (and a Bitcoin send's locked
 * coins) must keep counting. A process that starts, or an operator who reconciles, moves them to
 * `unknown` at once instead of waiting for them to look stuck (STUCK_AFTER_MS): reconcile then
 * settles them from the chain.
 *
 * Only rows of an executor that is certainly gone are taken: its lock file exists and its lock is
 * free (store/executor-lock.ts). A live process's rows are never taken, whether it is the server
 * or a CLI command executing beside it, and neither are rows without an executor (written before
 * executors were recorded): those stay to the 10-minute rule.
 */
import { appendAuditInTx } from '../audit/append.ts';
import { auditRecord } from '../audit/entry.ts';
import type { ErrorCode } from '../core/errors.ts';
import { executorIds, whenExecutorGone } from '../store/executor-lock.ts';
import { settle } from './ledger.ts';
import type { Warden } from './warden.ts';

/** The code an orphaned request's row carries: its outcome is unknown because its process is gone. */
export const ORPHAN_CODE: ErrorCode = 'EXECUTOR_GONE';

export interface Orphan {
  requestId: string;
  executor: string;
  /** Whether the execution put something on record before it would have sent (a txid). */
  recorded: boolean;
}

interface OrphanRow {
  id: string;
  identity: string;
  protocol: string;
  operation: string;
  result: string | null;
  scheduled_for: string | null;
}

/** Moves one gone executor's `executing` rows to `unknown`, each with its audit record, in one transaction. */
async function takeOver(warden: Warden, executor: string): Promise<Orphan[]> {
  return warden.store.transaction(async (tx) => {
    const now = warden.clock.now();
    const rows = tx.sync.all<OrphanRow>(
      `SELECT id, identity, protocol, operation, result, scheduled_for FROM request
       WHERE status = 'executing' AND executor = ? ORDER BY id`,
      [executor],
    );
    const taken: Orphan[] = [];
    for (const row of rows) {
      const moved = tx.sync.run(
        `UPDATE request SET status = 'unknown', error_code = ?, payload = NULL, scheduled_for = NULL,
           updated_at = ? WHERE id = ? AND status = 'executing' AND executor = ?`,
        [ORPHAN_CODE, now.toISOString(), row.id, executor],
      );
      if (moved !== 1) continue;
      // Still counting, as an outcome that is not known: never released on a guess.
      settle(tx.sync, row.id, 'unknown', now);
      const recorded = row.result !== null;
      appendAuditInTx(
        tx.sync,
        warden.vault.auditKeys(),
        auditRecord({
          actor: warden.actor,
          identity: row.identity,
          action: 'request.orphaned',
          outcome: 'error',
          operationId: row.id,
          protocol: row.protocol,
          details: {
            operation: row.operation,
            previousStatus: 'executing',
            status: 'unknown',
            ledger: 'unknown',
            code: ORPHAN_CODE,
            executor,
            recorded,
            wasScheduled: row.scheduled_for !== null,
          },
        }),
        warden.clock,
      );
      taken.push({ requestId: row.id, executor, recorded });
    }
    return taken;
  });
}

/**
 * Takes over every request whose executor is gone; returns them. Executors are probed one at a
 * time, each held (its lock taken) while its rows move, so two processes starting together never
 * both take one: the second finds the lock held, or the file already gone.
 */
export async function recoverOrphans(warden: Warden): Promise<Orphan[]> {
  const dir = warden.layout.executors;
  const named = await warden.store.db
    .selectFrom('request')
    .select('executor')
    .distinct()
    .where('status', '=', 'executing')
    .where('executor', 'is not', null)
    .execute();
  // Lock files of gone executors without rows left are removed on the way.
  const ids = new Set([...named.map((r) => r.executor!), ...executorIds(dir)]);
  const orphans: Orphan[] = [];
  for (const id of [...ids].sort()) {
    const probed = await whenExecutorGone(dir, id, () => takeOver(warden, id));
    if (probed.ran) orphans.push(...probed.value);
  }
  if (orphans.length > 0)
    warden.logger.warn(
      { requests: orphans.map((o) => o.requestId) },
      'requests left executing by a process that is gone are now unknown: reconcile them',
    );
  return orphans;
}
