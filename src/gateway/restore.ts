import { writeAnchorFile } from '../audit/anchor.ts';
import { fromStoredCheckpoint } from '../audit/checkpoint.ts';
import { readLastCheckpoint } from '../audit/rows.ts';
import type { Db, Store } from '../store/store.ts';
import { settle } from './ledger.ts';
import { transition } from './requests.ts';

/**
 * What a restore from a backup with a database does beyond writing the file, and what it says it
 * did not bring back. A request in flight at backup time is never run again from the restored
 * home: the original may have finished it after the backup was taken, and running it twice
 * could spend twice.
 * - `executing` → `unknown`: its reservation keeps counting until `warden ledger reconcile`
 *   decides (the chain or the operator knows whether it happened).
 * - `held` → `denied` (HOLD_EXPIRED), its reservation released: an approval given after the
 *   backup may already have executed it elsewhere; the agent asks again if it still wants it.
 */
export interface RestoreReport {
  database: boolean;
  counts: { tokens: number; policies: number; ledgerEntries: number; auditRecords: number; requests: number };
  executingToUnknown: string[];
  heldDenied: string[];
  /** What is deliberately not restored, for the operator (the CLI prints every line). */
  notRestored: string[];
}

const ALWAYS_NOT_RESTORED = [
  'rate-limit windows (in memory only): every token starts with a fresh window',
  'the unseal throttle (failed passphrase attempts) and the application log (warden.log)',
  'anything that happened after the backup was taken: budgets count only what the backup holds',
];

const NO_DATABASE = [
  'policies: every identity is deny-all until a policy is set again',
  'tokens: create new ones',
  'the ledger: budgets start from zero',
  'the audit log: it starts again with this restore',
];

/** The anchor file from the snapshot's newest checkpoint, so `audit verify` judges the restored log. */
export async function anchorFromSnapshot(store: Store, headFile: string): Promise<void> {
  const last = await readLastCheckpoint(store.db);
  if (last) await writeAnchorFile(headFile, fromStoredCheckpoint(last));
}

async function count(
  db: Db,
  table: 'token' | 'policy' | 'ledger' | 'audit_log' | 'request',
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Settles what was in flight (see above), in one transaction; returns the report. */
export async function settleRestored(store: Store, now: Date): Promise<RestoreReport> {
  return store.transaction(async (tx) => {
    const inFlight = await tx
      .selectFrom('request')
      .select(['id', 'status'])
      .where('status', 'in', ['executing', 'held'])
      .orderBy('id')
      .execute();
    const report: RestoreReport = {
      database: true,
      counts: {
        tokens: await count(tx, 'token'),
        policies: await count(tx, 'policy'),
        ledgerEntries: await count(tx, 'ledger'),
        auditRecords: await count(tx, 'audit_log'),
        requests: await count(tx, 'request'),
      },
      executingToUnknown: [],
      heldDenied: [],
      notRestored: [...ALWAYS_NOT_RESTORED],
    };
    for (const r of inFlight) {
      if (r.status === 'executing') {
        await transition(tx.sync, r.id, ['executing'], 'unknown', now, {
          error_code: 'INTERNAL',
          payload: null,
        });
        await settle(tx.sync, r.id, 'unknown', now);
        report.executingToUnknown.push(r.id);
      } else {
        await transition(tx.sync, r.id, ['held'], 'denied', now, {
          error_code: 'HOLD_EXPIRED',
          payload: null,
        });
        await settle(tx.sync, r.id, 'released', now);
        report.heldDenied.push(r.id);
      }
    }
    if (report.executingToUnknown.length > 0)
      report.notRestored.push(
        `${report.executingToUnknown.length} request(s) executing at backup time: now unknown, still counted; decide with \`warden ledger reconcile\``,
      );
    if (report.heldDenied.length > 0)
      report.notRestored.push(
        `${report.heldDenied.length} held request(s): denied (HOLD_EXPIRED) and released, never executed from this home`,
      );
    return report;
  });
}

/** The report of a restore from a backup that holds no database (written by an older Warden). */
export function keystoreOnlyReport(): RestoreReport {
  return {
    database: false,
    counts: { tokens: 0, policies: 0, ledgerEntries: 0, auditRecords: 0, requests: 0 },
    executingToUnknown: [],
    heldDenied: [],
    notRestored: [
      'this backup holds no database (written by an older Warden): only the keys are restored',
      ...NO_DATABASE,
      ...ALWAYS_NOT_RESTORED.slice(0, 2),
    ],
  };
}
