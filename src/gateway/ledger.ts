import { timeOrderedId } from '../core/ids.ts';
import type { Intent } from '../core/intent.ts';
import {
  type LedgerEntry,
  type LedgerFacets,
  type LedgerSnapshot,
  ledgerEntryFromIntent,
  ledgerTime,
  normalizeDestination,
} from '../policy/index.ts';
import type { Spent } from '../protocols/operation.ts';
import type { LedgerTable } from '../store/schema.ts';
import type { Db, SyncTx, WriteTx } from '../store/store.ts';

/**
 * The budget ledger in the store. Reserve inside the same transaction that read the window totals
 * and evaluated the policy; after signing/broadcasting, commit or release; an outcome that is not
 * known stays counted (`unknown`) until reconciled. Released entries never count.
 *
 * Fees are money: each entry books its fee beside its amount, and value windows count both. The
 * reservation books the worst case (`intent.maxFee`); the commit keeps it until the fee actually
 * paid is known (an EVM receipt: `warden ledger reconcile --from-chain`), which then replaces it
 * (`fee_final` 1). Every change takes a newer version, as the cache requires.
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
  'facets',
  'amount',
  'fee',
  'at',
  'status',
  'version',
] as const;
export type LedgerEntryRow = Pick<LedgerTable, (typeof ENTRY_COLUMNS)[number]>;

/**
 * A row as the policy sees it. A reservation (a request in flight, a hold waiting for approval, an
 * outcome not known) counts in every window until it settles: it is treated as made `now`
 * (`ledgerTime`), so a hold cannot slip out of its window while it waits and then execute on top of
 * a full budget.
 */
export function entryFromRow(r: LedgerEntryRow, now: Date): LedgerEntry {
  const entry = bookedEntry(r);
  return { ...entry, at: ledgerTime(entry.status, entry.at, now.getTime()) };
}

/**
 * A row as booked, its time as stored: what the cache's running windows keep (they present
 * reservations as made now themselves). `facets` reads the facets column (one parse per distinct
 * text when a loader shares a `facetsReader`).
 */
export function bookedEntry(
  r: LedgerEntryRow,
  facets: (text: string) => LedgerFacets = facetsFromColumn,
): LedgerEntry {
  return {
    protocol: r.protocol as LedgerEntry['protocol'],
    action: r.action as LedgerEntry['action'],
    asset: r.asset,
    destination: r.destination,
    facets: facets(r.facets),
    amount: BigInt(r.amount),
    fee: BigInt(r.fee),
    at: r.at,
    status: r.status as LedgerEntry['status'],
  };
}

/** A facets reader that parses each distinct column text once (a budget's rows share a few). */
export function facetsReader(): (text: string) => LedgerFacets {
  const seen = new Map<string, LedgerFacets>();
  return (text) => {
    let facets = seen.get(text);
    if (facets === undefined) {
      facets = facetsFromColumn(text);
      // Bounded: a hand-edited ledger with a distinct text per row only costs the parse.
      if (seen.size < 4096) seen.set(text, facets);
    }
    return facets;
  };
}

/**
 * The booked facets of a row. A value that is not a flat object of strings and numbers (a hand
 * edit) reads as no facets: the entry then matches no rule that conditions on one, the same as an
 * entry of another protocol.
 */
function facetsFromColumn(text: string): LedgerFacets {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(parsed))
      if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    return out;
  } catch {
    return {};
  }
}

/** The asset key the ledger files an intent under (the policy room's normal form). */
export function ledgerAsset(intent: Intent): string {
  return ledgerEntryFromIntent(intent, 0, 'reserved').asset;
}

/**
 * The entries the policy needs, read afresh: committed ones inside the horizon, and every entry
 * not yet committed whatever its age. The gateway keeps a LedgerCache instead; this is the
 * reference it is tested against.
 */
export function loadSnapshot(sync: SyncTx, intent: Intent, since: Date, now: Date): LedgerSnapshot {
  return {
    entries: countingRows(sync, intent, since).map((r) => entryFromRow(r, now)),
    knownDestinations: knownDestinations(sync, intent),
  };
}

const ENTRY_SELECT = `SELECT ${ENTRY_COLUMNS.join(', ')} FROM ledger`;

/** The rows of the intent's budget that can count in a window starting after `since`, oldest first. */
const COUNTING_ROWS = `${ENTRY_SELECT} WHERE identity = ? AND asset = ? AND (at > ? OR status IN ('reserved', 'unknown'))
       AND status IN ('reserved', 'committed', 'unknown') ORDER BY at`;

export function countingRows(sync: SyncTx, intent: Intent, since: Date): LedgerEntryRow[] {
  return sync.all<LedgerEntryRow>(COUNTING_ROWS, [intent.identity, ledgerAsset(intent), since.getTime()]);
}

/** The same rows one at a time, so that a budget of millions is never one array in memory. */
export function streamCountingRows(sync: SyncTx, intent: Intent, since: Date): Iterable<LedgerEntryRow> {
  return sync.iterate<LedgerEntryRow>(COUNTING_ROWS, [intent.identity, ledgerAsset(intent), since.getTime()]);
}

/**
 * Every ledger row changed after `version` (inserted or moved to another status), of any budget:
 * one range on the version index, the few rows changed since, whatever the size of the budgets.
 */
export function changedRows(sync: SyncTx, version: number): (LedgerEntryRow & { identity: string })[] {
  return sync.all(`SELECT ${ENTRY_COLUMNS.join(', ')}, identity FROM ledger WHERE version > ?`, [version]);
}

/** The rows with these ids as they are now (ids no longer there are simply missing). */
export function rowsById(sync: SyncTx, ids: readonly string[]): (LedgerEntryRow & { identity: string })[] {
  const rows: (LedgerEntryRow & { identity: string })[] = [];
  // Under SQLite's limit on bound parameters, whatever the number of ids.
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    rows.push(
      ...sync.all<LedgerEntryRow & { identity: string }>(
        `SELECT ${ENTRY_COLUMNS.join(', ')}, identity FROM ledger WHERE id IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      ),
    );
  }
  return rows;
}

/** Destinations of the intent this identity has paid before (committed). */
export function knownDestinations(sync: SyncTx, intent: Intent): Set<string> {
  if (intent.destinations.length === 0) return new Set();
  const wanted = [...new Set(intent.destinations.map(normalizeDestination))];
  const known = sync.all<{ destination: string }>(
    `SELECT DISTINCT destination FROM ledger WHERE identity = ? AND status = 'committed'
       AND destination IN (${wanted.map(() => '?').join(', ')})`,
    [intent.identity, ...wanted],
  );
  return new Set(known.map((k) => k.destination));
}

const VERSION_MEMO = 'ledger.version';

/** The highest version in the ledger (0 when empty), read once per transaction (SyncTx.memo). */
export function ledgerVersion(sync: SyncTx): number {
  const known = sync.memo.get(VERSION_MEMO);
  if (typeof known === 'number') return known;
  const row = sync.get<{ v: number | null }>('SELECT max(version) AS v FROM ledger');
  const version = Number(row?.v ?? 0);
  sync.memo.set(VERSION_MEMO, version);
  return version;
}

/** The version for a row this writer is about to write (under the write lock). */
function nextLedgerVersion(sync: SyncTx): number {
  const next = ledgerVersion(sync) + 1;
  sync.memo.set(VERSION_MEMO, next);
  return next;
}

/** How an entry is written when its outcome is already known (a request signed in its admission). */
export interface SettledAtOnce {
  status: Exclude<LedgerStatus, 'reserved'>;
  spent: Spent | undefined;
}

/**
 * Books a request's entry: reserved, or (`settled`) straight in the state `settle` would move the
 * reservation to, for a request signed inside the unit that admits it: one write instead of two.
 */
export function reserve(
  sync: SyncTx,
  requestId: string,
  intent: Intent,
  at: Date,
  settled?: SettledAtOnce,
): void {
  // The policy room's normal form, so that windows count exactly what they will later read.
  const e = ledgerEntryFromIntent(intent, at.getTime(), 'reserved');
  const paid =
    settled?.spent !== undefined && settled.status === 'committed' ? spentColumns(settled.spent) : {};
  sync.run(
    `INSERT INTO ledger (id, request_id, identity, protocol, action, asset, destination, facets, amount,
       fee, fee_final, at, status, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      timeOrderedId('led'),
      requestId,
      intent.identity,
      e.protocol,
      e.action,
      e.asset,
      e.destination,
      JSON.stringify(e.facets),
      paid.amount ?? e.amount.toString(),
      paid.fee ?? e.fee.toString(),
      // Nothing to learn later about an operation that pays no fee.
      paid.fee_final ?? (e.fee === 0n ? 1 : 0),
      e.at,
      settled?.status ?? 'reserved',
      at.toISOString(),
      nextLedgerVersion(sync),
    ],
  );
}

export type { Spent };

function spentColumns(spent: Spent): { fee?: string; fee_final?: number; amount?: string } {
  if (spent.fee !== null && spent.fee < 0n) throw new Error('a fee paid is never negative');
  return {
    ...(spent.fee === null ? {} : { fee: spent.fee.toString(), fee_final: 1 }),
    ...(spent.valueMoved ? {} : { amount: '0' }),
  };
}

/**
 * Moves a request's reservation to its final state. A commit keeps the worst-case fee booked at
 * reserve unless `spent` says what was paid; released entries never count, whatever their fee.
 */
export function settle(
  sync: SyncTx,
  requestId: string,
  status: Exclude<LedgerStatus, 'reserved'>,
  at: Date,
  spent?: Spent,
): number {
  const paid = spent !== undefined && status === 'committed' ? spentColumns(spent) : {};
  return sync.run(
    `UPDATE ledger SET status = ?, updated_at = ?, version = ?,
       fee = coalesce(?, fee), fee_final = coalesce(?, fee_final), amount = coalesce(?, amount)
     WHERE request_id = ? AND status IN ('reserved', 'unknown')`,
    [
      status,
      at.toISOString(),
      nextLedgerVersion(sync),
      paid.fee ?? null,
      paid.fee_final ?? null,
      paid.amount ?? null,
      requestId,
    ],
  );
}

/**
 * An entry booked committed at admission whose signature then failed (admit-off-thread.ts), in
 * the same transaction: released (failed) or kept counting (unknown). Returns the rows changed.
 */
export function rebookCommitted(
  sync: SyncTx,
  requestId: string,
  status: 'released' | 'unknown',
  at: Date,
): number {
  return sync.run(
    "UPDATE ledger SET status = ?, updated_at = ?, version = ? WHERE request_id = ? AND status = 'committed'",
    [status, at.toISOString(), nextLedgerVersion(sync), requestId],
  );
}

/**
 * The fee paid, learned after the commit: replaces the worst case of a committed entry (and its
 * amount with 0 when the value never moved). Only once: a final fee never changes again.
 */
export async function settleFee(
  tx: WriteTx,
  requestId: string,
  spent: Spent & { fee: bigint },
  at: Date,
): Promise<number> {
  const result = await tx
    .updateTable('ledger')
    .set({ ...spentColumns(spent), updated_at: at.toISOString(), version: nextLedgerVersion(tx.sync) })
    .where('request_id', '=', requestId)
    .where('status', '=', 'committed')
    .where('fee_final', '=', 0)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Committed entries of a protocol whose fee is still the worst case, newest first: what its
 * network can settle. Newest first, so entries that never settle (a dropped transaction) cannot
 * crowd out the ones that just landed; they keep their worst case, which is the safe side.
 */
export function openFees(
  db: Db,
  protocol: string,
  limit: number,
): Promise<{ request_id: string; identity: string; fee: string }[]> {
  return db
    .selectFrom('ledger')
    .select(['request_id', 'identity', 'fee'])
    .where('fee_final', '=', 0)
    .where('status', '=', 'committed')
    .where('protocol', '=', protocol)
    .orderBy('at', 'desc')
    .limit(limit)
    .execute();
}

/** A held reservation released for execution counts from the moment it is spent. */
export async function restamp(tx: WriteTx, requestId: string, at: Date): Promise<void> {
  await tx
    .updateTable('ledger')
    .set({ at: at.getTime(), updated_at: at.toISOString(), version: nextLedgerVersion(tx.sync) })
    .where('request_id', '=', requestId)
    .execute();
}

export interface LedgerRow {
  id: string;
  requestId: string;
  identity: string;
  asset: string;
  amount: string;
  /** The fee booked: the worst case while `feeFinal` is false, then the fee actually paid. */
  fee: string;
  feeFinal: boolean;
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
    fee: r.fee,
    feeFinal: r.fee_final === 1,
    status: r.status,
    at: new Date(r.at).toISOString(),
  }));
}

/** Exact totals per identity, asset and status, summed as bigint (amounts are decimal text). */
export interface LedgerTotal {
  identity: string;
  asset: string;
  status: string;
  /** Amounts moved, in the asset's base unit. */
  total: bigint;
  /** Fees booked beside them (worst case until the fee paid is known): money too. */
  fees: bigint;
  count: number;
}

export async function ledgerTotals(db: Db, identity?: string): Promise<LedgerTotal[]> {
  let q = db.selectFrom('ledger').select(['identity', 'asset', 'status', 'amount', 'fee']);
  if (identity) q = q.where('identity', '=', identity);
  const totals = new Map<string, LedgerTotal>();
  for (const r of await q.execute()) {
    const key = `${r.identity}|${r.asset}|${r.status}`;
    const t = totals.get(key) ?? {
      identity: r.identity,
      asset: r.asset,
      status: r.status,
      total: 0n,
      fees: 0n,
      count: 0,
    };
    t.total += BigInt(r.amount);
    t.fees += BigInt(r.fee);
    t.count += 1;
    totals.set(key, t);
  }
  return [...totals.values()].sort((a, b) =>
    `${a.identity}${a.asset}${a.status}`.localeCompare(`${b.identity}${b.asset}${b.status}`),
  );
}
