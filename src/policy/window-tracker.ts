/**
 * The committed totals of one window within one rule's time order (budget-matcher.ts), kept as the
 * entries change and as time moves the window's start.
 */
import { nextPeriodStart, periodStart } from './duration.ts';
import type { LedgerEntry } from './snapshot.ts';
import type { TimeSeq } from './time-seq.ts';
import type { PolicyWindow } from './types.ts';

/** The destination id of an entry with no single destination: it counts for every destination. */
export const NO_DESTINATION = -1;

/** What the windows read of the budget's committed entries, by slot. */
export interface Columns {
  at(slot: number): number;
  value(slot: number): bigint;
  dest(slot: number): number;
  shape(slot: number): number;
  /** An entry with the shape's protocol, action, asset and facets (and no destination). */
  shapeEntry(shape: number): LedgerEntry;
  destName(dest: number): string;
}

export interface Sums {
  value: bigint;
  count: number;
}

export const zero = (): Sums => ({ value: 0n, count: 0 });

export function addTo(map: Map<number, Sums>, key: number, value: bigint, sign: 1 | -1): void {
  let s = map.get(key);
  if (s === undefined) {
    s = zero();
    map.set(key, s);
  }
  s.value += sign === 1 ? value : -value;
  s.count += sign;
  if (s.count === 0) map.delete(key);
}

/** Where a window starts at `now`: rolling windows hold entries after it, calendar ones from it on. */
function boundOf(window: PolicyWindow, now: number): number {
  return window.kind === 'rolling' ? now - window.ms : periodStart(window.unit, now);
}

/**
 * One window's committed totals, as of the time it was last moved to. The entries inside are a
 * suffix of the time order; `#cursor` is where it starts, kept as entries come and go, so that
 * moving the window touches only the entries that change sides.
 */
export class Tracker {
  #bound: number;
  /** Calendar windows: the next period's start (until then the window starts at the same time). */
  #next: number;
  #cursor: number;
  value = 0n;
  count = 0;
  /** Per destination id (NO_DESTINATION included), made when a per-destination limit first asks. */
  perDest: Map<number, Sums> | null = null;

  constructor(
    readonly window: PolicyWindow,
    now: number,
    private readonly seq: TimeSeq,
    private readonly cols: Columns,
  ) {
    this.#bound = boundOf(window, now);
    this.#next = window.kind === 'rolling' ? Number.NaN : nextPeriodStart(window.unit, now);
    this.#cursor = window.kind === 'rolling' ? seq.countAtMost(this.#bound) : seq.countBelow(this.#bound);
    this.value = seq.total - seq.prefix(this.#cursor);
    this.count = seq.size - this.#cursor;
  }

  inside(at: number): boolean {
    return this.window.kind === 'rolling' ? at > this.#bound : at >= this.#bound;
  }

  /** Whether the window reaches no entry at or before `since` (which the budget no longer holds). */
  startsAfter(since: number): boolean {
    return this.window.kind === 'rolling' ? this.#bound >= since : this.#bound > since;
  }

  /** An entry came (+1) or went (-1): inside, it changes the totals; before the window, where it starts. */
  changed(slot: number, at: number, sign: 1 | -1): void {
    if (this.inside(at)) this.#add(slot, sign);
    else this.#cursor += sign;
  }

  /** The first `k` entries were dropped (all before the window). */
  forgot(k: number): void {
    this.#cursor -= k;
  }

  moveTo(now: number): void {
    const window = this.window;
    // Within the same calendar period the start stays (and no date needs working out).
    if (window.kind === 'calendar' && now >= this.#bound && now < this.#next) return;
    const bound = boundOf(window, now);
    if (window.kind === 'calendar') this.#next = nextPeriodStart(window.unit, now);
    if (bound === this.#bound) return;
    const later = bound > this.#bound;
    this.#bound = bound;
    const seq = this.seq;
    if (later) {
      while (this.#cursor < seq.size && !this.inside(seq.timeAt(this.#cursor))) {
        this.#add(seq.slotAt(this.#cursor), -1);
        this.#cursor += 1;
      }
    } else {
      // The clock went back: entries that had left come back in.
      while (this.#cursor > 0 && this.inside(seq.timeAt(this.#cursor - 1))) {
        this.#cursor -= 1;
        this.#add(seq.slotAt(this.#cursor), 1);
      }
    }
  }

  /** The committed totals of one destination's window (entries with no single destination included). */
  sumsFor(dest: number | undefined): Sums {
    if (this.perDest === null) {
      const perDest = new Map<number, Sums>();
      this.seq.forEach(this.#cursor, this.seq.size, (slot) =>
        addTo(perDest, this.cols.dest(slot), this.cols.value(slot), 1),
      );
      this.perDest = perDest;
    }
    return both(this.perDest, dest);
  }

  #add(slot: number, sign: 1 | -1): void {
    const value = this.cols.value(slot);
    this.value += sign === 1 ? value : -value;
    this.count += sign;
    if (this.perDest !== null) addTo(this.perDest, this.cols.dest(slot), value, sign);
  }
}

/** A destination's totals plus those of entries with no single destination (they count for all). */
export function both(map: ReadonlyMap<number, Sums>, dest: number | undefined): Sums {
  const own = dest === undefined ? undefined : map.get(dest);
  const anywhere = map.get(NO_DESTINATION);
  if (own === undefined) return anywhere ?? ZERO;
  if (anywhere === undefined) return own;
  return { value: own.value + anywhere.value, count: own.count + anywhere.count };
}

const ZERO: Sums = Object.freeze({ value: 0n, count: 0 });
