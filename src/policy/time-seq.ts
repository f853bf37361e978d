/**
 * A time-ordered sequence of ledger entries (their slots), kept in chunks of typed arrays with one
 * sum per chunk: inserting in the middle (a reservation committed long after it was made keeps its
 * time) moves at most one chunk, and sums over a prefix cost a search over chunks plus part of one
 * chunk instead of a walk over every entry. Items are ordered by (time, slot); slots are unique.
 *
 * Positions are 0-based indexes in time order. Weights (amount plus fee) are read from the owner's
 * column through `weight`, which must give the same value from insert to remove.
 */
const MAX_CHUNK = 256;
const FIRST_CHUNK = 4;

interface Chunk {
  at: Float64Array;
  slot: Int32Array;
  n: number;
  /** Sum of the weights in this chunk (0 when the sequence keeps no weights). */
  sum: bigint;
}

function newChunk(capacity: number): Chunk {
  return { at: new Float64Array(capacity), slot: new Int32Array(capacity), n: 0, sum: 0n };
}

/** First index in the chunk whose (at, slot) is not below the key. */
function lowerKey(c: Chunk, at: number, slot: number): number {
  let lo = 0;
  let hi = c.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const a = c.at[mid]!;
    if (a < at || (a === at && c.slot[mid]! < slot)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in the chunk whose time is after `t` (`orEqual`: at or before t counts), else not before it. */
function timeBound(c: Chunk, t: number, orEqual: boolean): number {
  let lo = 0;
  let hi = c.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const a = c.at[mid]!;
    if (orEqual ? a <= t : a < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class TimeSeq {
  readonly #chunks: Chunk[] = [];
  #size = 0;
  #total = 0n;
  /** Exclusive prefixes over chunks (items, weights), valid below the dirty marks. */
  readonly #cumN: number[] = [];
  readonly #cumSum: bigint[] = [];
  #cleanN = 0;
  #cleanSum = 0;
  /** The chunk the last position was found in. */
  #hint = 0;

  /** @param weight an item's weight by slot, or null for a sequence that keeps no sums. */
  constructor(readonly weight: ((slot: number) => bigint) | null) {}

  get size(): number {
    return this.#size;
  }

  /** Sum of every weight. */
  get total(): bigint {
    return this.#total;
  }

  insert(at: number, slot: number): void {
    const chunks = this.#chunks;
    if (chunks.length === 0) chunks.push(newChunk(FIRST_CHUNK));
    let c = this.#chunkFor(at, slot);
    let chunk = chunks[c]!;
    if (chunk.n === chunk.at.length) {
      if (chunk.n < MAX_CHUNK) this.#growChunk(chunk);
      else if (c === chunks.length - 1 && this.#afterLast(chunk, at, slot)) {
        // Appending in time order (the usual case) fills chunks instead of leaving halves.
        chunk = newChunk(MAX_CHUNK);
        chunks.push(chunk);
        c += 1;
      } else {
        const right = this.#split(c);
        if (this.#afterLast(chunk, at, slot)) {
          chunk = right;
          c += 1;
        }
      }
    }
    const pos = lowerKey(chunk, at, slot);
    chunk.at.copyWithin(pos + 1, pos, chunk.n);
    chunk.slot.copyWithin(pos + 1, pos, chunk.n);
    chunk.at[pos] = at;
    chunk.slot[pos] = slot;
    chunk.n += 1;
    this.#size += 1;
    if (this.weight !== null) {
      const w = this.weight(slot);
      chunk.sum += w;
      this.#total += w;
    }
    this.#dirty(c + 1);
  }

  remove(at: number, slot: number): void {
    const c = this.#chunkFor(at, slot);
    const chunk = this.#chunks[c];
    const pos = chunk === undefined ? 0 : lowerKey(chunk, at, slot);
    if (chunk === undefined || pos >= chunk.n || chunk.at[pos] !== at || chunk.slot[pos] !== slot) {
      throw new Error('TimeSeq: removing an item it does not hold');
    }
    chunk.at.copyWithin(pos, pos + 1, chunk.n);
    chunk.slot.copyWithin(pos, pos + 1, chunk.n);
    chunk.n -= 1;
    this.#size -= 1;
    if (this.weight !== null) {
      const w = this.weight(slot);
      chunk.sum -= w;
      this.#total -= w;
    }
    if (chunk.n === 0) {
      this.#chunks.splice(c, 1);
      this.#dirty(c);
    } else this.#dirty(c + 1);
  }

  /** Removes the first `k` items (the oldest), calling `each` on their slots first. */
  dropFront(k: number, each?: (slot: number) => void): void {
    if (k <= 0) return;
    k = Math.min(k, this.#size);
    if (each !== undefined) this.forEach(0, k, each);
    const chunks = this.#chunks;
    let whole = 0;
    let left = k;
    while (whole < chunks.length && chunks[whole]!.n <= left) {
      left -= chunks[whole]!.n;
      this.#total -= chunks[whole]!.sum;
      whole += 1;
    }
    chunks.splice(0, whole);
    const first = chunks[0];
    if (left > 0 && first !== undefined) {
      const dropped = this.#sumIn(first, 0, left);
      first.sum -= dropped;
      this.#total -= dropped;
      first.at.copyWithin(0, left, first.n);
      first.slot.copyWithin(0, left, first.n);
      first.n -= left;
    }
    this.#size -= k;
    this.#dirty(0);
  }

  /** Number of items with a time at or before `t`: the position of the first one after it. */
  countAtMost(t: number): number {
    return this.#countBy(t, true);
  }

  /** Number of items with a time before `t`. */
  countBelow(t: number): number {
    return this.#countBy(t, false);
  }

  timeAt(k: number): number {
    const c = this.#locate(k);
    return this.#chunks[c]!.at[k - this.#cumN[c]!]!;
  }

  slotAt(k: number): number {
    const c = this.#locate(k);
    return this.#chunks[c]!.slot[k - this.#cumN[c]!]!;
  }

  /** Sum of the weights of the first `k` items. */
  prefix(k: number): bigint {
    if (k <= 0) return 0n;
    if (k >= this.#size) return this.#total;
    const c = this.#locate(k);
    this.#fixSums();
    const chunk = this.#chunks[c]!;
    const off = k - this.#cumN[c]!;
    // Whichever part of the chunk is shorter to add up.
    const part =
      off * 2 <= chunk.n ? this.#sumIn(chunk, 0, off) : chunk.sum - this.#sumIn(chunk, off, chunk.n);
    return this.#cumSum[c]! + part;
  }

  /** The first position whose prefix sum (itself included) reaches `x`, or -1 when the total does not. */
  firstReaching(x: bigint): number {
    if (x <= 0n) return this.#size > 0 ? 0 : -1;
    if (this.#total < x) return -1;
    this.#fixN();
    this.#fixSums();
    const chunks = this.#chunks;
    const cum = this.#cumSum;
    // The first chunk whose end reaches x.
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! + chunks[mid]!.sum >= x) hi = mid;
      else lo = mid + 1;
    }
    const chunk = chunks[lo]!;
    const weight = this.weight!;
    let acc = cum[lo]!;
    let i: number;
    if ((x - acc) * 2n <= chunk.sum) {
      i = 0;
      acc += weight(chunk.slot[0]!);
      while (acc < x) {
        i += 1;
        acc += weight(chunk.slot[i]!);
      }
    } else {
      // From the end: step back while the prefix before the item still reaches x.
      i = chunk.n - 1;
      acc += chunk.sum;
      while (i > 0 && acc - weight(chunk.slot[i]!) >= x) {
        acc -= weight(chunk.slot[i]!);
        i -= 1;
      }
    }
    return this.#cumN[lo]! + i;
  }

  /** Calls `each` on the slots at positions [from, to), in time order. */
  forEach(from: number, to: number, each: (slot: number, at: number) => void): void {
    if (from >= to) return;
    let c = this.#locate(from);
    let off = from - this.#cumN[c]!;
    let left = to - from;
    while (left > 0) {
      const chunk = this.#chunks[c]!;
      const end = Math.min(chunk.n, off + left);
      for (let i = off; i < end; i++) each(chunk.slot[i]!, chunk.at[i]!);
      left -= end - off;
      off = 0;
      c += 1;
    }
  }

  #countBy(t: number, orEqual: boolean): number {
    const chunks = this.#chunks;
    // The first chunk whose last item is past the bound.
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid]!;
      const last = chunk.at[chunk.n - 1]!;
      if (orEqual ? last <= t : last < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return this.#size;
    this.#fixN();
    return this.#cumN[lo]! + timeBound(chunks[lo]!, t, orEqual);
  }

  /** The chunk an item with this key is in or goes to: the first whose last key is not below it. */
  #chunkFor(at: number, slot: number): number {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#afterLast(chunks[mid]!, at, slot)) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(lo, 0);
  }

  #afterLast(chunk: Chunk, at: number, slot: number): boolean {
    const last = chunk.at[chunk.n - 1]!;
    return at > last || (at === last && slot > chunk.slot[chunk.n - 1]!);
  }

  /** The chunk holding position k (0 ≤ k < size); walks through the positions in order stay in O(1). */
  #locate(k: number): number {
    if (k < 0 || k >= this.#size) throw new RangeError('TimeSeq: position out of range');
    this.#fixN();
    const cum = this.#cumN;
    const hint = this.#hint;
    if (this.#holds(hint, k)) return hint;
    if (this.#holds(hint + 1, k)) {
      this.#hint = hint + 1;
      return hint + 1;
    }
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cum[mid]! <= k) lo = mid;
      else hi = mid - 1;
    }
    this.#hint = lo;
    return lo;
  }

  #holds(c: number, k: number): boolean {
    const chunk = this.#chunks[c];
    return chunk !== undefined && this.#cumN[c]! <= k && k < this.#cumN[c]! + chunk.n;
  }

  /** Splits a full chunk in two halves; returns the second, placed right after it. */
  #split(c: number): Chunk {
    const chunk = this.#chunks[c]!;
    const half = chunk.n >>> 1;
    const right = newChunk(MAX_CHUNK);
    right.at.set(chunk.at.subarray(half, chunk.n));
    right.slot.set(chunk.slot.subarray(half, chunk.n));
    right.n = chunk.n - half;
    if (this.weight !== null) {
      right.sum = this.#sumIn(chunk, half, chunk.n);
      chunk.sum -= right.sum;
    }
    chunk.n = half;
    this.#chunks.splice(c + 1, 0, right);
    this.#dirty(c + 1);
    return right;
  }

  #growChunk(chunk: Chunk): void {
    const size = Math.min(MAX_CHUNK, chunk.at.length * 2);
    const at = new Float64Array(size);
    const slot = new Int32Array(size);
    at.set(chunk.at);
    slot.set(chunk.slot);
    chunk.at = at;
    chunk.slot = slot;
  }

  #sumIn(chunk: Chunk, from: number, to: number): bigint {
    const weight = this.weight;
    if (weight === null) return 0n;
    let s = 0n;
    for (let i = from; i < to; i++) s += weight(chunk.slot[i]!);
    return s;
  }

  #dirty(c: number): void {
    if (c < this.#cleanN) this.#cleanN = c;
    if (c < this.#cleanSum) this.#cleanSum = c;
  }

  #fixN(): void {
    const chunks = this.#chunks;
    if (this.#cleanN === chunks.length) return;
    const cum = this.#cumN;
    cum.length = chunks.length;
    for (let c = Math.max(this.#cleanN, 0); c < chunks.length; c++) {
      cum[c] = c === 0 ? 0 : cum[c - 1]! + chunks[c - 1]!.n;
    }
    this.#cleanN = chunks.length;
  }

  #fixSums(): void {
    const chunks = this.#chunks;
    if (this.#cleanSum === chunks.length) return;
    const cum = this.#cumSum;
    cum.length = chunks.length;
    for (let c = Math.max(this.#cleanSum, 0); c < chunks.length; c++) {
      cum[c] = c === 0 ? 0n : cum[c - 1]! + chunks[c - 1]!.sum;
    }
    this.#cleanSum = chunks.length;
  }
}
