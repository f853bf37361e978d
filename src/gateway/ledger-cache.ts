import type { Intent } from '../core/intent.ts';
import type { LedgerEntry, LedgerSnapshot } from '../policy/index.ts';
import type { Store, SyncTx } from '../store/store.ts';
import {
  COUNTING,
  changedRows,
  countingRows,
  entryFromRow,
  knownDestinations,
  type LedgerEntryRow,
  ledgerAsset,
  ledgerVersion,
} from './ledger.ts';

/** The rows of one identity and asset that can count, as of `version`. */
interface Slot {
  /** Every change with a version up to this one is reflected in `rows`. */
  version: number;
  /** Committed rows at or before this time (ms) have been dropped: no window reaches them. */
  since: number;
  rows: Map<string, Cached>;
}

interface Cached {
  row: LedgerEntryRow;
  /** Built once for a committed row (it never changes again); others depend on `now`. */
  entry: LedgerEntry | null;
}

function cached(row: LedgerEntryRow): Cached {
  // Frozen: every snapshot of this budget hands out the same object.
  return {
    row,
    entry: row.status === 'committed' ? Object.freeze(entryFromRow(row, new Date(row.at))) : null,
  };
}

const COUNTS = new Set<string>(COUNTING);

/**
 * The window snapshot without reading the whole window on every request. Each budget (identity and
 * asset) keeps its counting rows in memory; inside each transaction only the rows changed since
 * (every insert and status change takes the next ledger version) are read and applied. The result
 * equals `loadSnapshot` read in the same transaction, so budgets stay exact:
 *
 * - Use it only inside `store.transaction` (BEGIN IMMEDIATE): rows changed by another process are
 *   then committed with a higher version, and the delta read sees them.
 * - A transaction that rolls back may have read its own uncommitted rows; `guard` wraps the store so
 *   that any rollback empties the cache, and the next request reads its budget afresh.
 * - A longer window than the cache covers (a new policy) reads afresh too.
 */
export class LedgerCache {
  /** In least-recently-used order: a budget not asked about for a while is forgotten first. */
  readonly #slots = new Map<string, Slot>();

  /** @param maxBudgets how many budgets (identity and asset) to keep; others are read afresh. */
  constructor(readonly maxBudgets = 1024) {}

  /**
   * The store whose transactions drop the cache when they roll back: inside the transaction,
   * before the connection is released to the next one (which must not see what was rolled back),
   * and again if the commit itself fails.
   */
  guard(store: Store): Store {
    return {
      db: store.db,
      close: () => store.close(),
      transaction: async (fn) => {
        try {
          return await store.transaction(async (tx) => {
            try {
              return await fn(tx);
            } catch (err) {
              this.clear();
              throw err;
            }
          });
        } catch (err) {
          this.clear();
          throw err;
        }
      },
      // A unit that fails drops what the cache read for it (the group commit's caller does that);
      // a batch that fails as a whole drops everything.
      batch: async (units) => {
        try {
          return await store.batch(units);
        } catch (err) {
          this.clear();
          throw err;
        }
      },
    };
  }

  clear(): void {
    this.#slots.clear();
  }

  snapshot(sync: SyncTx, intent: Intent, since: Date, now: Date): LedgerSnapshot {
    const key = `${intent.identity}\u0000${ledgerAsset(intent)}`;
    let slot = this.#slots.get(key);
    if (!slot || since.getTime() < slot.since) {
      slot = this.#load(sync, intent, since);
    } else {
      this.#catchUp(sync, intent, slot);
    }
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    for (const oldest of this.#slots.keys()) {
      if (this.#slots.size <= this.maxBudgets) break;
      this.#slots.delete(oldest);
    }
    this.#prune(slot, since.getTime());
    const entries: LedgerEntry[] = [];
    for (const { row, entry } of slot.rows.values()) entries.push(entry ?? entryFromRow(row, now));
    return { entries, knownDestinations: knownDestinations(sync, intent) };
  }

  #load(sync: SyncTx, intent: Intent, since: Date): Slot {
    // The version first: rows committed before this transaction are all at or below it.
    const version = ledgerVersion(sync);
    const rows = countingRows(sync, intent, since);
    return { version, since: since.getTime(), rows: new Map(rows.map((r) => [r.id, cached(r)])) };
  }

  #catchUp(sync: SyncTx, intent: Intent, slot: Slot): void {
    for (const row of changedRows(sync, intent, slot.version)) {
      if (counts(row, slot.since)) slot.rows.set(row.id, cached(row));
      else slot.rows.delete(row.id);
      if (row.version > slot.version) slot.version = row.version;
    }
  }

  #prune(slot: Slot, since: number): void {
    if (since <= slot.since) return;
    for (const [id, { row }] of slot.rows) if (!counts(row, since)) slot.rows.delete(id);
    slot.since = since;
  }
}

/**
 * Whether a row belongs in a snapshot whose committed entries start after `since`: it counts, and
 * it is either not committed yet (counts whatever its age) or committed after `since`. A row can
 * become committed after the horizon has passed it, so this is checked on every change, not only
 * when the horizon moves.
 */
function counts(row: LedgerEntryRow, since: number): boolean {
  return COUNTS.has(row.status) && (row.status !== 'committed' || row.at > since);
}
