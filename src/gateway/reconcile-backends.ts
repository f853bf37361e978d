import { appendAuditInTx } from '../audit/append.ts';
import { auditRecord } from '../audit/entry.ts';
import { signerFor } from '../keys/capabilities.ts';
import type { BackendVerdict, ReconcileContext } from '../protocols/module.ts';
import { openFees, settleFee } from './ledger.ts';
import type { Operations } from './operations.ts';
import { ORPHAN_CODE, recoverOrphans } from './orphans.ts';
import { reconcile, stuckRequests } from './reconcile.ts';
import { getRequestRow } from './requests.ts';
import type { Warden } from './warden.ts';

/** What reconcile did with one request, for the operator. */
export interface ReconcileVerdict {
  requestId: string;
  /** `fee`: a committed request whose worst-case fee was replaced by the fee it paid. */
  verdict: 'commit' | 'release' | 'unresolved' | 'fee';
  reason: string;
}

/** Committed requests whose fee is looked up in one run; the rest wait for the next. */
export const FEES_PER_RUN = 500;

async function pending(warden: Warden, requestId: string) {
  const row = await getRequestRow(warden.store.db, requestId);
  return {
    requestId,
    identity: row.identity,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    executorGone: row.status === 'unknown' && row.error_code === ORPHAN_CODE,
  };
}

/**
 * Settles stuck requests where their module's backend gives a certain answer, and only there
 * (an EVM receipt for the recorded hash: success → commit, reverted → release with its fee still
 * counted, and nothing given back since it reached the chain). Anything else stays for the
 * operator, with what the backend said. Then committed requests still booked at their worst-case
 * fee get the fee they paid (`settleFees`).
 */
export async function reconcileFromBackends(
  warden: Warden,
  operations: Operations,
): Promise<ReconcileVerdict[]> {
  // Left executing by a process that is gone: unknown now, so they are settled in this run.
  await recoverOrphans(warden);
  const stuck = await stuckRequests(warden);
  const verdicts: ReconcileVerdict[] = [];
  for (const { module, backend } of operations.modules()) {
    if (!module.reconcile) continue;
    const mine = stuck.filter((s) => s.protocol === module.name);
    if (mine.length === 0) continue;
    const requests = await Promise.all(mine.map((s) => pending(warden, s.requestId)));
    const context: ReconcileContext<unknown> = {
      tables: warden.store.db,
      signer: (identity, kind) => signerFor(warden.vault, identity, kind),
    };
    for (const v of (await module.reconcile.verdicts(requests, backend, context)) as BackendVerdict[]) {
      if ('neverSent' in v) {
        // Nothing reached the network: what it took (coins, a nonce) goes back with the budget.
        await reconcile(warden, v.requestId, 'release', { giveBack: true });
      } else if (v.verdict !== 'unresolved') {
        await reconcile(warden, v.requestId, v.verdict, {
          giveBack: false,
          ...(v.spent ? { spent: v.spent } : {}),
        });
      }
      verdicts.push({ requestId: v.requestId, verdict: v.verdict, reason: v.reason });
    }
  }
  verdicts.push(...(await settleFees(warden, operations)));
  return verdicts;
}

/**
 * Committed requests are booked at their worst-case fee until the fee they paid is known: each
 * module's backend is asked, and what was paid replaces the worst case (once; a final fee never
 * changes again). Not known yet: the worst case stays, and the next run asks again.
 */
export async function settleFees(warden: Warden, operations: Operations): Promise<ReconcileVerdict[]> {
  const verdicts: ReconcileVerdict[] = [];
  for (const { module, backend } of operations.modules()) {
    if (!module.reconcile || backend === null) continue;
    const open = await openFees(warden.store.db, module.name, FEES_PER_RUN);
    if (open.length === 0) continue;
    const requests = await Promise.all(open.map((o) => pending(warden, o.request_id)));
    const { found, unresolved } = await module.reconcile.feesPaid(requests, backend);
    verdicts.push(
      ...unresolved.map((u) => ({ requestId: u.requestId, verdict: u.verdict, reason: u.reason })),
    );
    const booked = new Map(open.map((o) => [o.request_id, o]));
    for (const f of found) {
      const entry = booked.get(f.requestId);
      if (!entry) continue;
      const settled = await warden.store.transaction(async (tx) => {
        const now = warden.clock.now();
        if ((await settleFee(tx, f.requestId, f.spent, now)) === 0) return false;
        await appendAuditInTx(
          tx.sync,
          warden.vault.auditKeys(),
          auditRecord({
            actor: warden.actor,
            identity: entry.identity,
            action: 'ledger.fee',
            outcome: 'ok',
            operationId: f.requestId,
            protocol: module.name,
            details: { worstCase: entry.fee, paid: f.spent.fee, valueMoved: f.spent.valueMoved },
          }),
          warden.clock,
        );
        return true;
      });
      if (settled) {
        verdicts.push({
          requestId: f.requestId,
          verdict: 'fee',
          reason: `${f.reason} (${entry.fee} booked as the worst case)`,
        });
      }
    }
  }
  return verdicts;
}
