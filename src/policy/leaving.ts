/**
 * When a full rolling window frees enough room: the earliest entry time t such that the entries
 * made at or before t weigh at least `need` (they are the first to leave, each d after it was made).
 * That is what the reference finds by sorting the window and walking it; here the window's entries
 * come as a few time-ordered parts (the committed entries of a destination, those of no single
 * destination, the reservations), searched without walking them.
 *
 * Why it is exact: with W(t) the weight of all parts at or before t, W is non-decreasing and only
 * steps at entry times, so the reference's answer (the time of the first entry, in sorted order,
 * whose running sum reaches `need`) is the least entry time t with W(t) ≥ need.
 */

/** One time-ordered part of a window (positions 0-based, oldest first). */
export interface WindowPart {
  readonly size: number;
  timeAt(i: number): number;
  /** Weight of the part's entries made at or before t. */
  weightUpTo(t: number): bigint;
  /** The first position whose running weight (itself included) reaches x, or -1. */
  firstReaching(x: bigint): number;
}

/** The least entry time t of any part with the weight of all parts at or before t ≥ x, or null. */
export function earliestReaching(parts: readonly WindowPart[], x: bigint): number | null {
  const live = parts.filter((p) => p.size > 0);
  const only = live[0];
  if (only === undefined) return null;
  if (live.length === 1) {
    const i = only.firstReaching(x);
    return i < 0 ? null : only.timeAt(i);
  }
  // Search the smallest part's entries for the first one at which everything together reaches x;
  // the answer is that entry, or an entry of the other parts between it and the one before.
  let smallest = only;
  for (const p of live) if (p.size < smallest.size) smallest = p;
  const others = live.filter((p) => p !== smallest);
  const reaches = (t: number): boolean => {
    let w = 0n;
    for (const p of live) w += p.weightUpTo(t);
    return w >= x;
  };
  let lo = 0;
  let hi = smallest.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (reaches(smallest.timeAt(mid))) hi = mid;
    else lo = mid + 1;
  }
  // Between the entry before (which did not reach x) and this one, the smallest part weighs `before`.
  const before = lo === 0 ? 0n : smallest.weightUpTo(smallest.timeAt(lo - 1));
  const other = earliestReaching(others, x - before);
  if (lo === smallest.size) return other;
  const at = smallest.timeAt(lo);
  return other !== null && other < at ? other : at;
}

/** Entries as a sorted array with running weights (the few reservations of a window). */
export function arrayPart(items: readonly { at: number; weight: bigint }[]): WindowPart {
  const sorted = [...items].sort((a, b) => a.at - b.at);
  const running: bigint[] = [];
  let sum = 0n;
  for (const item of sorted) {
    sum += item.weight;
    running.push(sum);
  }
  /** Entries at or before t. */
  const upTo = (t: number): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]!.at <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    size: sorted.length,
    timeAt: (i) => sorted[i]!.at,
    weightUpTo: (t) => {
      const n = upTo(t);
      return n === 0 ? 0n : running[n - 1]!;
    },
    firstReaching: (x) => {
      let lo = 0;
      let hi = running.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (running[mid]! >= x) hi = mid;
        else lo = mid + 1;
      }
      return lo === running.length ? -1 : lo;
    },
  };
}
