/**
 * The running windows of one rule's conditions within one budget (budget-windows.ts keeps the
 * entries): the committed entries the rule counts, in time order, and for each window of the rule
 * its totals, kept up to date as entries come and go and as time moves the window's start (entries
 * that leave are subtracted, entries that come back when the clock goes back are added). The few
 * entries not yet committed count in every window, so their totals are kept once per rule.
 *
 * Rules share a matcher when their conditions other than amount are the same (windows never look
 * at the amount condition), whatever their limits.
 */
import { normalizeDestination } from './destination.ts';
import { arrayPart, earliestReaching, type WindowPart } from './leaving.ts';
import { entryMatchesRule } from './match.ts';
import { TimeSeq } from './time-seq.ts';
import type { PolicyRule, PolicyWindow } from './types.ts';
import type { WindowBucket, WindowSums } from './window-totals.ts';
import { addTo, both, type Columns, NO_DESTINATION, type Sums, Tracker, zero } from './window-tracker.ts';

/** An entry not yet committed (or with a corrupt time): it counts in every window. */
export interface OpenEntry {
  readonly shape: number;
  readonly dest: number;
  readonly value: bigint;
  /** As booked; it counts as made at max(at, now) (or now, when not finite). */
  readonly at: number;
  /** Committed entries land here only when their time is corrupt; they count as used. */
  readonly committed: boolean;
}

/** What a limit check reads of one window (and destination); a full rolling window is searched. */
class RunningBucket implements WindowBucket {
  readonly value: WindowSums;
  readonly count: WindowSums;

  constructor(
    committed: Sums,
    used: Sums,
    reserved: Sums,
    private readonly matcher: Matcher,
    private readonly window: PolicyWindow,
    private readonly now: number,
    private readonly dest: number | null | undefined,
    private readonly open: ReadonlyMap<string, OpenEntry>,
  ) {
    this.value = { used: committed.value + used.value, reserved: reserved.value };
    this.count = { used: BigInt(committed.count + used.count), reserved: BigInt(reserved.count) };
  }

  leavingAt(measure: 'value' | 'count', need: bigint): number | null {
    if (this.window.kind !== 'rolling') return null;
    return this.matcher.leaving(this.window.ms, this.now, this.dest, this.open, measure, need);
  }
}

/** Totals of the open entries a matcher counts: committed (corrupt time) ones are used, others reserved. */
interface OpenSums {
  used: Sums;
  reserved: Sums;
}

export class Matcher {
  readonly all: TimeSeq;
  /** The same entries per destination id, made when a per-destination window first has to search. */
  #byDest: Map<number, TimeSeq> | null = null;
  readonly #trackers = new Map<string, Tracker>();
  readonly #open = { used: new Map<number, Sums>(), reserved: new Map<number, Sums>() };
  readonly #openAll: OpenSums = { used: zero(), reserved: zero() };
  readonly #shapeOk = new Map<number, boolean>();
  readonly #destOk = new Map<number, boolean>();
  /** The budget's view generation that last asked (the least recently used matcher goes first). */
  lastUsed = 0;
  /** No longer kept up to date (forgotten by its budget). */
  retired = false;

  constructor(
    readonly rule: PolicyRule,
    private readonly cols: Columns,
  ) {
    this.all = new TimeSeq((slot) => cols.value(slot));
  }

  /** entryMatchesRule, remembered per shape and destination. */
  matches(shape: number, dest: number): boolean {
    let ok = this.#shapeOk.get(shape);
    if (ok === undefined) {
      ok = entryMatchesRule(this.rule, this.cols.shapeEntry(shape), normalizeDestination);
      this.#shapeOk.set(shape, ok);
    }
    const listed = this.rule.match.destinations;
    if (!ok || listed === null || dest === NO_DESTINATION) return ok;
    let listedOk = this.#destOk.get(dest);
    if (listedOk === undefined) {
      listedOk = listed.includes(this.cols.destName(dest));
      this.#destOk.set(dest, listedOk);
    }
    return listedOk;
  }

  addCommitted(slot: number): void {
    this.#committed(slot, 1);
  }

  removeCommitted(slot: number): void {
    this.#committed(slot, -1);
  }

  addOpen(entry: OpenEntry, sign: 1 | -1): void {
    const side = entry.committed ? 'used' : 'reserved';
    addTo(this.#open[side], entry.dest, entry.value, sign);
    const all = this.#openAll[side];
    all.value += sign === 1 ? entry.value : -entry.value;
    all.count += sign;
  }

  /** Drops the committed entries at or before `since` (they are outside every window kept). */
  forget(since: number): void {
    if (this.all.size === 0 || this.all.timeAt(0) > since) return;
    const k = this.all.countAtMost(since);
    const byDest = this.#byDest;
    const dests = new Set<number>();
    this.all.dropFront(k, byDest === null ? undefined : (slot) => dests.add(this.cols.dest(slot)));
    for (const tracker of this.#trackers.values()) tracker.forgot(k);
    if (byDest === null) return;
    for (const dest of dests) {
      const seq = byDest.get(dest)!;
      seq.dropFront(seq.countAtMost(since));
      if (seq.size === 0) byDest.delete(dest);
    }
  }

  /** Moves every window to `now`; a window that would reach before `since` is dropped. */
  moveTo(now: number, since: number): void {
    for (const [label, tracker] of this.#trackers) {
      tracker.moveTo(now);
      if (!tracker.startsAfter(since)) this.#trackers.delete(label);
    }
  }

  /**
   * The bucket of `window` at `now` (the budget has moved every kept window there): `dest` is the
   * destination's id, undefined for a destination no entry has, or null for the whole window. Null
   * when the window reaches entries at or before `since`, which the budget no longer holds.
   */
  bucket(
    window: PolicyWindow,
    now: number,
    dest: number | null | undefined,
    open: ReadonlyMap<string, OpenEntry>,
    since: number,
  ): WindowBucket | null {
    let tracker = this.#trackers.get(window.label);
    if (tracker === undefined) {
      tracker = new Tracker(window, now, this.all, this.cols);
      if (!tracker.startsAfter(since)) return null;
      this.#trackers.set(window.label, tracker);
    }
    const committed = dest === null ? tracker : tracker.sumsFor(dest);
    const used = dest === null ? this.#openAll.used : both(this.#open.used, dest);
    const reserved = dest === null ? this.#openAll.reserved : both(this.#open.reserved, dest);
    return new RunningBucket(committed, used, reserved, this, window, now, dest, open);
  }

  /** When enough of a full rolling window (of `ms`) leaves: see leaving.ts. */
  leaving(
    ms: number,
    now: number,
    dest: number | null | undefined,
    open: ReadonlyMap<string, OpenEntry>,
    measure: 'value' | 'count',
    need: bigint,
  ): number | null {
    const bound = now - ms;
    const seqs: (TimeSeq | undefined)[] =
      dest === null
        ? [this.all]
        : [dest === undefined ? undefined : this.#destSeq(dest), this.#destSeq(NO_DESTINATION)];
    const parts: WindowPart[] = [];
    for (const seq of seqs) if (seq !== undefined) parts.push(seqPart(seq, bound, measure));
    const reservations: { at: number; weight: bigint }[] = [];
    for (const o of open.values()) {
      if (dest !== null && o.dest !== NO_DESTINATION && o.dest !== dest) continue;
      if (!this.matches(o.shape, o.dest)) continue;
      const at = o.committed ? Number.NaN : Math.max(o.at, now);
      reservations.push({ at: Number.isFinite(at) ? at : now, weight: measure === 'value' ? o.value : 1n });
    }
    parts.push(arrayPart(reservations));
    return earliestReaching(parts, need);
  }

  #destSeq(dest: number): TimeSeq | undefined {
    if (this.#byDest === null) {
      const byDest = new Map<number, TimeSeq>();
      this.all.forEach(0, this.all.size, (slot, at) =>
        this.#seqOf(byDest, this.cols.dest(slot)).insert(at, slot),
      );
      this.#byDest = byDest;
    }
    return this.#byDest.get(dest);
  }

  #seqOf(byDest: Map<number, TimeSeq>, dest: number): TimeSeq {
    let seq = byDest.get(dest);
    if (seq === undefined) {
      seq = new TimeSeq((slot) => this.cols.value(slot));
      byDest.set(dest, seq);
    }
    return seq;
  }

  #committed(slot: number, sign: 1 | -1): void {
    const at = this.cols.at(slot);
    const byDest = this.#byDest;
    if (sign === 1) {
      this.all.insert(at, slot);
      if (byDest !== null) this.#seqOf(byDest, this.cols.dest(slot)).insert(at, slot);
    } else {
      this.all.remove(at, slot);
      if (byDest !== null) {
        const dest = this.cols.dest(slot);
        const seq = byDest.get(dest)!;
        seq.remove(at, slot);
        if (seq.size === 0) byDest.delete(dest);
      }
    }
    for (const tracker of this.#trackers.values()) tracker.changed(slot, at, sign);
  }
}

/** A time sequence restricted to a rolling window (entries after `bound`), as a searchable part. */
function seqPart(seq: TimeSeq, bound: number, measure: 'value' | 'count'): WindowPart {
  const start = seq.countAtMost(bound);
  const value = measure === 'value';
  const base = value ? seq.prefix(start) : 0n;
  return {
    size: seq.size - start,
    timeAt: (i) => seq.timeAt(start + i),
    weightUpTo: (t) => {
      const n = Math.max(seq.countAtMost(t), start);
      return value ? seq.prefix(n) - base : BigInt(n - start);
    },
    firstReaching: (x) => {
      if (!value) return x <= 0n ? 0 : x <= BigInt(seq.size - start) ? Number(x) - 1 : -1;
      const k = seq.firstReaching(x + base);
      return k < 0 ? -1 : Math.max(k - start, 0);
    },
  };
}
