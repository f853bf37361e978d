import type { Intent } from '../core/intent.ts';
import { BudgetWindows, type RunningSnapshot } from '../policy/index.ts';
import type { Store, SyncTx } from '../store/store.ts';
import {
  bookedEntry,
  COUNTING,
  changedRows,
  facetsReader,
  knownDestinations,
  ledgerAsset,
  ledgerVersion,
  rowsById,
  streamCountingRows,
} from './ledger.ts';

const COUNTS = new Set<string>(COUNTING);

const budgetKey = (identity: string, asset: string) => `${identity}\u0000${asset}`;

/**
 * The window totals without reading, or walking, the whole window on every request. Each budget
 * (identity and asset) keeps its counting rows in memory as running windows (policy/budget-windows.ts:
 * totals per window kept as entries come and go and as time passes, so a check costs the same with a
 * million entries in its windows as with none); inside each transaction only the rows changed since
 * the last read (every insert and status change takes the next ledger version) are read and applied
 * to the budgets kept. `evaluate`
 * over the result equals `evaluate` over `loadSnapshot` read in the same transaction, so budgets
 * stay exact:
 *
 * - Use it only inside a write transaction (`store.transaction`, or a unit of `store.batch`): rows
 *   changed by another process are then committed with a higher version, and the delta read sees
 *   them.
 * - In a group commit, take the snapshot before the unit's own writes: a unit that throws has its
 *   writes undone while the cache keeps what it read, so it must not have read them (GroupCommit).
 * - A transaction that rolls back may have read its own uncommitted rows; `guard` wraps the store so
 *   that a rollback takes back what the transaction put in: the budgets it loaded are dropped, and
 *   the rows it applied are read again, as committed, by the next transaction. Only a failed
 *   commit (of a transaction or a whole batch) empties the cache.
 * - A longer window than the cache covers (a new policy), or a clock gone back, reads afresh too.
 * - The totals answer for the `now` they were taken at, and only until the budget changes again:
 *   evaluate right after taking them, in the same transaction.
 */
export class LedgerCache {
  /**
   * The counting rows of each budget kept (committed rows at or before a budget's `since` dropped:
   * no window reaches them), in least-recently-used order: a budget not asked about for a while is
   * forgotten first.
   */
  readonly #slots = new Map<string, BudgetWindows>();
  /** Every ledger change up to this version is reflected in every budget kept; null: none read yet. */
  #version: number | null = null;
  /** What the running `store.transaction` put into the cache, to take back if it rolls back. */
  #pending: { version: number | null; applied: Set<string>; loaded: Set<string> } | null = null;
  /** Rows applied by a transaction that rolled back, to read again as committed (`#catchUp`). */
  #recheck = new Set<string>();

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
      path: store.path,
      close: () => store.close(),
      transaction: async (fn) => {
        let takenBack = false;
        try {
          return await store.transaction(async (tx) => {
            // Set inside: only now does this transaction hold the connection (no batch is running).
            this.#pending = { version: this.#version, applied: new Set(), loaded: new Set() };
            try {
              return await fn(tx);
            } catch (err) {
              this.#takeBack();
              takenBack = true;
              throw err;
            } finally {
              this.#pending = null;
            }
          });
        } catch (err) {
          if (!takenBack) this.clear(); // the commit itself failed: what it covered is unknown
          throw err;
        }
      },
      // A unit that fails leaves the cache as it was (see above); a batch that fails as a whole,
      // at its commit, drops everything.
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

  /** How many budgets are kept (for `warden status` and tests). */
  get budgetsKept(): number {
    return this.#slots.size;
  }

  clear(): void {
    this.#slots.clear();
    this.#version = null;
    this.#recheck.clear();
  }

  /**
   * The running transaction rolls back: budgets it loaded may hold its own rows, so they go; rows
   * it applied to the others are read again, as committed, at the next catch-up; the version goes
   * back to where the transaction found it (its own versions are undone with it).
   */
  #takeBack(): void {
    const pending = this.#pending;
    if (!pending) return;
    for (const key of pending.loaded) this.#slots.delete(key);
    for (const id of pending.applied) this.#recheck.add(id);
    this.#version = pending.version;
    if (this.#version === null) this.clear();
  }

  /** The budget's windows at `now`, for a policy whose windows start after `since` (snapshotHorizon). */
  snapshot(sync: SyncTx, intent: Intent, since: Date, now: Date): RunningSnapshot {
    this.#catchUp(sync);
    const key = budgetKey(intent.identity, ledgerAsset(intent));
    let windows = this.#slots.get(key);
    if (!windows || since.getTime() < windows.since) {
      windows = this.#load(sync, intent, since);
      this.#pending?.loaded.add(key);
    }
    this.#slots.delete(key);
    this.#slots.set(key, windows);
    for (const oldest of this.#slots.keys()) {
      if (this.#slots.size <= this.maxBudgets) break;
      this.#slots.delete(oldest);
    }
    const known = knownDestinations(sync, intent);
    // Last: the totals are of this moment and of nothing read after it.
    return { windows: windows.at(now.getTime(), since.getTime()), knownDestinations: known };
  }

  /** Reads the budget afresh: after a catch-up, so it is as of `#version` too. */
  #load(sync: SyncTx, intent: Intent, since: Date): BudgetWindows {
    const windows = new BudgetWindows(intent.identity, ledgerAsset(intent));
    const facets = facetsReader();
    for (const row of streamCountingRows(sync, intent, since)) windows.put(row.id, bookedEntry(row, facets));
    return windows;
  }

  /**
   * Applies every ledger change since the last one read, of whichever budget kept. One range on the
   * version index: filtering by budget in the query would let the database walk the budget's whole
   * history instead (its (identity, asset, at) index looks more selective).
   */
  #catchUp(sync: SyncTx): void {
    if (this.#version === null) {
      // Nothing kept yet: rows committed before this transaction are all at or below this version.
      this.#version = ledgerVersion(sync);
      return;
    }
    const facets = facetsReader();
    if (this.#recheck.size > 0) {
      const ids = [...this.#recheck];
      this.#recheck.clear();
      const found = new Map(rowsById(sync, ids).map((row) => [row.id, row]));
      for (const id of ids) {
        const row = found.get(id);
        // Gone (its insert was rolled back): out of whichever budget holds it.
        if (!row) for (const windows of this.#slots.values()) windows.remove(id);
        else this.#apply(row, facets);
      }
    }
    for (const row of changedRows(sync, this.#version)) {
      if (row.version > this.#version) this.#version = row.version;
      this.#apply(row, facets);
    }
  }

  #apply(row: ReturnType<typeof changedRows>[number], facets: ReturnType<typeof facetsReader>): void {
    const windows = this.#slots.get(budgetKey(row.identity, row.asset));
    if (windows === undefined) return;
    this.#pending?.applied.add(row.id);
    // A row committed at or before the horizon is dropped by the windows themselves.
    if (COUNTS.has(row.status)) windows.put(row.id, bookedEntry(row, facets));
    else windows.remove(row.id);
  }
}
