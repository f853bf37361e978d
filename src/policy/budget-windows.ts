/**
 * The windows of one budget (identity and asset) kept running, so that a budget check costs the same
 * with a million entries in its windows as with none. Pure: entries and time come in as arguments.
 *
 * Entries are added, replaced and removed by key (the ledger row id) as the ledger changes; `at(now)`
 * then moves every window to `now` and returns the view `evaluate` reads (`{ windows, knownDestinations }`).
 * Its answers equal `evaluate` over a snapshot of the same entries as the ledger presents them at
 * `now` (`ledgerTime`: an entry not yet committed counts as made at max(at, now)), for every policy
 * whose windows start after `since`.
 *
 * Committed entries live in typed-array columns (no object per entry); per rule condition, a
 * time-ordered sequence and running totals per window (budget-matcher.ts, window-tracker.ts). Entries not yet
 * committed are few (requests in flight, holds, unknown outcomes) and kept as they are.
 */
import { WardenError } from '../core/errors.ts';
import { BigColumn } from './big-column.ts';
import { Matcher, type OpenEntry } from './budget-matcher.ts';
import { normalizeDestination } from './destination.ts';
import type { LedgerEntry, LedgerFacets } from './snapshot.ts';
import { TimeSeq } from './time-seq.ts';
import type { PolicyLimit, PolicyRule, RuleMatch } from './types.ts';
import { nonNegative, type WindowBucket, type WindowView } from './window-totals.ts';
import { type Columns, NO_DESTINATION } from './window-tracker.ts';

/** Rule conditions remembered per budget; the least recently asked is forgotten beyond this. */
const MAX_MATCHERS = 64;

/** The conditions a window counts entries by: all but the amount. */
function matchKey(m: RuleMatch): string {
  return JSON.stringify([
    m.protocols,
    m.actions,
    m.assets,
    m.destinations,
    m.facets.map((c) => [c.facet, c.type, c.lowerCase, c.values]),
  ]);
}

class Interner<T> {
  readonly #ids = new Map<string, number>();
  readonly items: T[] = [];

  id(key: string, make: () => T): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.items.length;
      this.items.push(make());
      this.#ids.set(key, id);
    }
    return id;
  }

  find(key: string): number | undefined {
    return this.#ids.get(key);
  }
}

function grown<A extends Float64Array | Int32Array>(column: A, min: number): A {
  if (min <= column.length) return column;
  const next = new (column.constructor as new (n: number) => A)(Math.max(min, column.length * 2));
  next.set(column);
  return next;
}

export class BudgetWindows {
  readonly asset: string;
  /** Committed entries at or before this time are not held (no window kept reaches them). */
  #since = Number.NEGATIVE_INFINITY;
  /** Bumped by every change: a view answers only while nothing changed since it was made. */
  #generation = 0;

  readonly #slots = new Map<string, number>();
  readonly #keys: (string | undefined)[] = [];
  readonly #free: number[] = [];
  #top = 0;
  #at = new Float64Array(16);
  #shape = new Int32Array(16);
  #dest = new Int32Array(16);
  readonly #value = new BigColumn();
  /** Every committed entry held, in time order (what new matchers are built from and what is forgotten). */
  readonly #master = new TimeSeq(null);
  readonly #open = new Map<string, OpenEntry>();

  readonly #shapes = new Interner<LedgerEntry>();
  readonly #dests = new Interner<string>();
  readonly #spellings = new Map<string, number>();
  #lastShape: { facets: LedgerFacets; protocol: string; action: string; id: number } | null = null;
  readonly #matchers = new Map<string, Matcher>();
  readonly #byMatch = new WeakMap<RuleMatch, Matcher>();
  readonly #cols: Columns = {
    at: (slot) => this.#at[slot]!,
    value: (slot) => this.#value.get(slot),
    dest: (slot) => this.#dest[slot]!,
    shape: (slot) => this.#shape[slot]!,
    shapeEntry: (shape) => this.#shapes.items[shape]!,
    destName: (dest) => this.#dests.items[dest]!,
  };

  constructor(
    readonly identity: string,
    asset: string,
  ) {
    this.asset = asset.toLowerCase();
  }

  /** Committed entries at or before this time are not held. */
  get since(): number {
    return this.#since;
  }

  /** Entries held. */
  get size(): number {
    return this.#slots.size + this.#open.size;
  }

  /**
   * Adds the entry under `key`, or replaces what was there (a status change, a fee learned, a new
   * time). An entry of another identity or asset, or committed at or before `since`, is not held.
   */
  put(key: string, entry: LedgerEntry): void {
    this.remove(key);
    if (entry.asset.toLowerCase() !== this.asset) return;
    if (entry.identity !== undefined && entry.identity !== this.identity) return;
    const shape = this.#shapeOf(entry);
    const dest = entry.destination === null ? NO_DESTINATION : this.#destOf(entry.destination);
    const value = nonNegative(entry.amount) + nonNegative(entry.fee);
    const committed = entry.status === 'committed';
    if (!committed || !Number.isFinite(entry.at)) {
      const open: OpenEntry = { shape, dest, value, at: entry.at, committed };
      this.#open.set(key, open);
      for (const m of this.#matchers.values()) if (m.matches(shape, dest)) m.addOpen(open, 1);
      return;
    }
    if (entry.at <= this.#since) return;
    const slot = this.#free.pop() ?? this.#top++;
    this.#at = grown(this.#at, slot + 1);
    this.#shape = grown(this.#shape, slot + 1);
    this.#dest = grown(this.#dest, slot + 1);
    this.#at[slot] = entry.at;
    this.#shape[slot] = shape;
    this.#dest[slot] = dest;
    this.#value.set(slot, value);
    this.#keys[slot] = key;
    this.#slots.set(key, slot);
    this.#master.insert(entry.at, slot);
    for (const m of this.#matchers.values()) if (m.matches(shape, dest)) m.addCommitted(slot);
  }

  remove(key: string): void {
    this.#generation += 1;
    const open = this.#open.get(key);
    if (open !== undefined) {
      this.#open.delete(key);
      for (const m of this.#matchers.values()) if (m.matches(open.shape, open.dest)) m.addOpen(open, -1);
    }
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    for (const m of this.#matchers.values()) {
      if (m.matches(this.#shape[slot]!, this.#dest[slot]!)) m.removeCommitted(slot);
    }
    this.#master.remove(this.#at[slot]!, slot);
    this.#release(slot);
  }

  /**
   * The windows at `now`, for policies whose windows start after `since` (default: as before).
   * Committed entries at or before `since` are forgotten; `since` never goes back (a budget that
   * needs older entries again is rebuilt from the ledger).
   */
  at(now: number, since = this.#since): WindowView {
    if (!Number.isFinite(now)) throw new WardenError('INVALID_ARGUMENT', 'BudgetWindows: now is not a time');
    if (since < this.#since) {
      throw new WardenError('INVALID_ARGUMENT', 'BudgetWindows: entries before `since` are no longer held');
    }
    for (const m of this.#matchers.values()) m.moveTo(now, since);
    if (since > this.#since) {
      const master = this.#master;
      if (master.size > 0 && master.timeAt(0) <= since) {
        for (const m of this.#matchers.values()) m.forget(since);
        master.dropFront(master.countAtMost(since), (slot) => this.#release(slot));
      }
      this.#since = since;
    }
    this.#generation += 1;
    return new View(this, now, this.#generation);
  }

  /** What a view of `generation` at `now` answers (see View). */
  bucketAt(
    generation: number,
    now: number,
    rule: PolicyRule,
    limit: PolicyLimit,
    destination: string | null,
  ): WindowBucket {
    if (generation !== this.#generation) {
      throw new WardenError('INTERNAL', 'BudgetWindows: this view is stale (the budget changed since)');
    }
    const dest = destination === null ? null : this.#dests.find(destination);
    const bucket = this.#matcher(rule, generation).bucket(limit.window, now, dest, this.#open, this.#since);
    if (bucket === null) {
      throw new WardenError(
        'INTERNAL',
        `BudgetWindows: the ${limit.window.label} window of rule ${rule.id} reaches entries no longer held`,
      );
    }
    return bucket;
  }

  #matcher(rule: PolicyRule, generation: number): Matcher {
    let m = this.#byMatch.get(rule.match);
    if (m === undefined || m.retired) {
      const key = matchKey(rule.match);
      m = this.#matchers.get(key);
      if (m === undefined) {
        m = this.#build(rule);
        this.#matchers.set(key, m);
        if (this.#matchers.size > MAX_MATCHERS) this.#forgetLeastUsed();
      }
      this.#byMatch.set(rule.match, m);
    }
    m.lastUsed = generation;
    return m;
  }

  /** A matcher over the entries held: the committed ones in time order, then the open ones. */
  #build(rule: PolicyRule): Matcher {
    const m = new Matcher(rule, this.#cols);
    this.#master.forEach(0, this.#master.size, (slot) => {
      if (m.matches(this.#shape[slot]!, this.#dest[slot]!)) m.addCommitted(slot);
    });
    for (const open of this.#open.values()) if (m.matches(open.shape, open.dest)) m.addOpen(open, 1);
    return m;
  }

  #forgetLeastUsed(): void {
    let oldest: [string, Matcher] | null = null;
    for (const entry of this.#matchers)
      if (oldest === null || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    if (oldest === null) return;
    // A policy in use may still find it by its conditions: retired, it is rebuilt when asked again.
    oldest[1].retired = true;
    this.#matchers.delete(oldest[0]);
  }

  #shapeOf(entry: LedgerEntry): number {
    const last = this.#lastShape;
    // Entries loaded together mostly share their facets object: skip the key then.
    if (
      last !== null &&
      last.facets === entry.facets &&
      last.protocol === entry.protocol &&
      last.action === entry.action
    )
      return last.id;
    const asset = entry.asset.toLowerCase();
    const key = JSON.stringify([entry.protocol, entry.action, asset, entry.facets]);
    const id = this.#shapes.id(key, () => ({
      protocol: entry.protocol,
      action: entry.action,
      asset,
      destination: null,
      facets: entry.facets,
      amount: 0n,
      fee: 0n,
      at: 0,
      status: 'committed',
    }));
    this.#lastShape = { facets: entry.facets, protocol: entry.protocol, action: entry.action, id };
    return id;
  }

  /** The id of a destination as windows compare it (normalized); each spelling is normalized once. */
  #destOf(destination: string): number {
    let id = this.#spellings.get(destination);
    if (id === undefined) {
      const normal = normalizeDestination(destination);
      id = this.#dests.id(normal, () => normal);
      this.#spellings.set(destination, id);
    }
    return id;
  }

  #release(slot: number): void {
    const key = this.#keys[slot];
    if (key !== undefined) this.#slots.delete(key);
    this.#keys[slot] = undefined;
    this.#free.push(slot);
  }
}

/** The windows of a budget at one time, for `evaluate`; stale once the budget changes. */
class View implements WindowView {
  readonly identity: string;
  readonly asset: string;

  constructor(
    private readonly budget: BudgetWindows,
    readonly now: number,
    private readonly generation: number,
  ) {
    this.identity = budget.identity;
    this.asset = budget.asset;
  }

  bucket(rule: PolicyRule, limit: PolicyLimit, destination: string | null): WindowBucket {
    return this.budget.bucketAt(this.generation, this.now, rule, limit, destination);
  }
}
