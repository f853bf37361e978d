import { randomId } from '../core/ids.ts';
import type { Intent } from '../core/intent.ts';
import {
  type LedgerEntry,
  type LedgerSnapshot,
  ledgerEntryFromIntent,
  normalizeDestination,
} from '../policy/index.ts';
import type { LedgerTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';

/**
 * The budget ledger in the store. Reserve inside the same transaction that read the window totals
 * and evaluated the policy; after signing/broadcasting, commit or release; an outcome that is not
 * known stays counted (`unknown`) until reconciled. Released entries never count.
 */
export type LedgerStatus = 'reserved' | 'committed' | 'released' | 'unknown';
/** The statuses that count in a window (released entries never do). */
export const COUNTING: readonly LedgerStatus[] = ['reserved', 'committed', 'unknown'];

/** The columns a snapshot entry is built from. */
export const ENTRY_COLUMNS = [
  'id',
  'protocol',
  'action',
  'asset',
  'destination',
  'kind',
  'chain_id',
  'contract',
  'function_selector',
  'amount',
  'at',
  'status',
  'version',
] as const;
export type LedgerEntryRow = Pick<LedgerTable, (typeof ENTRY_COLUMNS)[number]>;

/**
 * A row as the policy sees it. A reservation (a request in flight, a hold waiting for approval, an
 * outcome not known) counts in every window until it settles: it is treated as made `now`, so a
 * hold cannot slip out of its window while it waits and then execute on top of a full budget.
 */
export function entryFromRow(r: LedgerEntryRow, now: Date): LedgerEntry {
  return {
    protocol: r.protocol as LedgerEntry['protocol'],
    action: r.action as LedgerEntry['action'],
    asset: r.asset,
    destination: r.destination,
    kind: r.kind,
    chainId: r.chain_id,
    contract: r.contract,
    functionSelector: r.function_selector,
    amount: BigInt(r.amount),
    at: r.status === 'committed' ? r.at : Math.max(r.at, now.getTime()),
    status: r.status as LedgerEntry['status'],
  };
}

/** The asset key the ledger files an intent under (the policy room's normal form). */
export function ledgerAsset(intent: Intent): string {
  return ledgerEntryFromIntent(intent, 0, 'reserved').asset;
}

/**
 * The entries the policy needs, read afresh: committed ones inside the horizon, and every entry
 * not yet committed whatever its age. The gateway keeps a LedgerCache instead; this is the
 * reference it is tested against, and what a dry run outside any transaction uses.
 */
export async function loadSnapshot(tx: Db, intent: Intent, since: Date, now: Date): Promise<LedgerSnapshot> {
  const rows = await countingRows(tx, intent, since);
  return {
    entries: rows.map((r) => entryFromRow(r, now)),
    knownDestinations: await knownDestinations(tx, intent),
  };
}

/** The rows of the intent's budget that can count in a window starting after `since`, oldest first. */
export function countingRows(tx: Db, intent: Intent, since: Date): Promise<LedgerEntryRow[]> {
  return tx
    .selectFrom('ledger')
    .select(ENTRY_COLUMNS)
    .where('identity', '=', intent.identity)
    .where('asset', '=', ledgerAsset(intent))
    .where((eb) => eb.or([eb('at', '>', since.getTime()), eb('status', 'in', ['reserved', 'unknown'])]))
    .where('status', 'in', COUNTING)
    .orderBy('at')
    .execute();
}

/** Destinations of the intent this identity has paid before (committed). */
export async function knownDestinations(tx: Db, intent: Intent): Promise<Set<string>> {
  if (intent.destinations.length === 0) return new Set();
  const known = await tx
    .selectFrom('ledger')
    .select('destination')
    .distinct()
    .where('identity', '=', intent.identity)
    .where('status', '=', 'committed')
    .where('destination', 'in', intent.destinations.map(normalizeDestination))
    .execute();
  return new Set(known.map((k) => k.destination!));
}

/** The highest version in the ledger (0 when empty); writers take the next one under the write lock. */
export async function ledgerVersion(tx: Db): Promise<number> {
  const row = await tx
    .selectFrom('ledger')
    .select((eb) => eb.fn.max('version').as('v'))
    .executeTakeFirst();
  return Number(row?.v ?? 0);
}

export async function reserve(tx: Db, requestId: string, intent: Intent, at: Date): Promise<void> {
  // The policy room's normal form, so that windows count exactly what they will later read.
  const e = ledgerEntryFromIntent(intent, at.getTime(), 'reserved');
  await tx
    .insertInto('ledger')
    .values({
      id: randomId('led'),
      request_id: requestId,
      identity: intent.identity,
      protocol: e.protocol,
      action: e.action,
      asset: e.asset,
      destination: e.destination,
      kind: e.kind,
      chain_id: e.chainId,
      contract: e.contract,
      function_selector: e.functionSelector,
      amount: e.amount.toString(),
      at: e.at,
      status: 'reserved',
      updated_at: at.toISOString(),
      version: (await ledgerVersion(tx)) + 1,
    })
    .execute();
}

/** Moves a request's reservation to its final state; a committed entry never changes again. */
export async function settle(
  tx: Db,
  requestId: string,
  status: Exclude<LedgerStatus, 'reserved'>,
  at: Date,
): Promise<number> {
  const result = await tx
    .updateTable('ledger')
    .set({ status, updated_at: at.toISOString(), version: (await ledgerVersion(tx)) + 1 })
    .where('request_id', '=', requestId)
    .where('status', 'in', ['reserved', 'unknown'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A held reservation released for execution counts from the moment it is spent. */
export async function restamp(tx: Db, requestId: string, at: Date): Promise<void> {
  await tx
    .updateTable('ledger')
    .set({ at: at.getTime(), updated_at: at.toISOString(), version: (await ledgerVersion(tx)) + 1 })
    .where('request_id', '=', requestId)
    .execute();
}

export interface LedgerRow {
  id: string;
  requestId: string;
  identity: string;
  asset: string;
  amount: string;
  status: string;
  at: string;
}

export async function listLedger(
  db: Db,
  filter: { identity?: string; status?: LedgerStatus[]; limit?: number },
): Promise<LedgerRow[]> {
  let q = db.selectFrom('ledger').selectAll();
  if (filter.identity) q = q.where('identity', '=', filter.identity);
  if (filter.status) q = q.where('status', 'in', filter.status);
  const rows = await q
    .orderBy('at', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    requestId: r.request_id,
    identity: r.identity,
    asset: r.asset,
    amount: r.amount,
    status: r.status,
    at: new Date(r.at).toISOString(),
  }));
}

/** Exact totals per identity, asset and status, summed as bigint (amounts are decimal text). */
export async function ledgerTotals(
  db: Db,
  identity?: string,
): Promise<{ identity: string; asset: string; status: string; total: bigint; count: number }[]> {
  let q = db.selectFrom('ledger').select(['identity', 'asset', 'status', 'amount']);
  if (identity) q = q.where('identity', '=', identity);
  const totals = new Map<
    string,
    { identity: string; asset: string; status: string; total: bigint; count: number }
  >();
  for (const r of await q.execute()) {
    const key = `${r.identity}|${r.asset}|${r.status}`;
    const t = totals.get(key) ?? {
      identity: r.identity,
      asset: r.asset,
      status: r.status,
      total: 0n,
      count: 0,
    };
    t.total += BigInt(r.amount);
    t.count += 1;
    totals.set(key, t);
  }
  return [...totals.values()].sort((a, b) =>
    `${a.identity}${a.asset}${a.status}`.localeCompare(`${b.identity}${b.asset}${b.status}`),
  );
}
