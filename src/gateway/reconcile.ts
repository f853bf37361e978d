import { appendAuditInTx } from '../audit/append.ts';
import { auditRecord } from '../audit/entry.ts';
import { WardenError } from '../core/errors.ts';
import { moduleNamed } from '../protocols/registry.ts';
import { type Spent, settle } from './ledger.ts';
import { getRequestRow, transition } from './requests.ts';
import type { Warden } from './warden.ts';

export interface StuckRequest {
  requestId: string;
  identity: string;
  protocol: string;
  status: string;
  amount: string;
  asset: string;
  since: string;
}

/**
 * Requests whose outcome is not known (a crash between reserve and settle, a broadcast that timed
 * out): their reservations keep counting against budgets until an operator reconciles them.
 */
/**
 * An `executing` request this old is taken for stuck, not slow. A process that is gone has its
 * requests taken over at once (orphans.ts: `unknown`, EXECUTOR_GONE); this rule remains for the
 * rest: rows written before executors were recorded, one whose lock file was removed by hand, and
 * an operator's last word over an execution that hangs in a process still alive.
 */
export const STUCK_AFTER_MS = 10 * 60 * 1000;

export async function stuckRequests(warden: Warden, olderThanMs = STUCK_AFTER_MS): Promise<StuckRequest[]> {
  const cutoff = new Date(warden.clock.now().getTime() - olderThanMs).toISOString();
  const rows = await warden.store.db
    .selectFrom('request')
    .innerJoin('ledger', 'ledger.request_id', 'request.id')
    .select([
      'request.id',
      'request.identity',
      'request.protocol',
      'request.status',
      'request.updated_at',
      'ledger.amount',
      'ledger.asset',
    ])
    .where((eb) =>
      eb.or([
        eb('request.status', '=', 'unknown'),
        eb.and([eb('request.status', '=', 'executing'), eb('request.updated_at', '<', cutoff)]),
      ]),
    )
    .orderBy('request.updated_at')
    .execute();
  return rows.map((r) => ({
    requestId: r.id,
    identity: r.identity,
    protocol: r.protocol,
    status: r.status,
    amount: r.amount,
    asset: r.asset,
    since: r.updated_at,
  }));
}

/**
 * An operator's verdict on a stuck request: it happened (commit) or it did not (release). `spent`
 * is what the chain says it cost: a commit then books the fee paid instead of the worst case, and
 * a release of a transaction that was mined but reverted still counts its fee (amount 0, since
 * fees are money). Without it a commit keeps the worst-case fee until the paid one is learned.
 */
export async function reconcile(
  warden: Warden,
  requestId: string,
  verdict: 'commit' | 'release',
  /**
   * `giveBack: false` when the backend says the operation did reach its network (a mined,
   * reverted transaction used its nonce): then nothing it spent is given back.
   */
  options: { giveBack?: boolean; spent?: Spent; actor?: string } = {},
): Promise<void> {
  await warden.store.transaction(async (tx) => {
    const row = await getRequestRow(tx, requestId);
    const now = warden.clock.now();
    const stuck = row.status === 'executing' && now.getTime() - Date.parse(row.updated_at) >= STUCK_AFTER_MS;
    if (row.status !== 'unknown' && !stuck) {
      throw new WardenError(
        'REQUEST_NOT_PENDING',
        `the request is ${row.status}; only unknown requests, or ones executing for 10 minutes, are reconciled`,
      );
    }
    await transition(
      tx.sync,
      requestId,
      ['unknown', 'executing'],
      verdict === 'commit' ? 'done' : 'failed',
      now,
      {
        error_code: verdict === 'commit' ? null : 'RECONCILED_NOT_EXECUTED',
        payload: null,
      },
    );
    const paid = options.spent;
    const feeOnly = verdict === 'release' && paid !== undefined;
    settle(
      tx.sync,
      requestId,
      verdict === 'commit' || feeOnly ? 'committed' : 'released',
      now,
      feeOnly ? { ...paid, valueMoved: false } : paid,
    );
    // Not sent after all: its module gives back what it spent (a nonce), or every later
    // operation would wait behind it.
    const hooks = moduleNamed(row.protocol)?.reconcile;
    const givenBack =
      verdict === 'release' && options.giveBack !== false && hooks
        ? await hooks.released(
            {
              requestId,
              identity: row.identity,
              result: row.result === null ? null : (JSON.parse(row.result) as unknown),
            },
            tx,
          )
        : {};
    await appendAuditInTx(
      tx.sync,
      warden.vault.auditKeys(),
      auditRecord({
        actor: options.actor ?? warden.actor,
        identity: row.identity,
        action: 'ledger.reconcile',
        outcome: 'ok',
        operationId: requestId,
        protocol: row.protocol,
        details: { verdict, previousStatus: row.status, ...givenBack, feePaid: paid?.fee ?? null },
      }),
      warden.clock,
    );
  });
}
