/**
 * A growable column of non-negative bigints in typed arrays, exact for every value: a JS bigint per
 * ledger entry would cost a heap object each, and budgets keep up to millions of entries. A value
 * below 2^53 is one float64; below 2^85 two (value = hi·2^32 + lo, both exact); anything larger
 * (more wei than exists) goes to a side map.
 */
const SAFE = 2n ** 53n;
const WIDE = 2n ** 85n;
const LOW_BITS = 0xffff_ffffn;
/** `hi` of a value kept in the side map. */
const HUGE = -1;

export class BigColumn {
  #hi: Float64Array;
  #lo: Float64Array;
  readonly #huge = new Map<number, bigint>();

  constructor(capacity = 16) {
    this.#hi = new Float64Array(capacity);
    this.#lo = new Float64Array(capacity);
  }

  get(i: number): bigint {
    const hi = this.#hi[i]!;
    if (hi === 0) return BigInt(this.#lo[i]!);
    if (hi === HUGE) return this.#huge.get(i)!;
    return (BigInt(hi) << 32n) + BigInt(this.#lo[i]!);
  }

  set(i: number, value: bigint): void {
    if (value < 0n) throw new RangeError('BigColumn holds non-negative values only');
    if (i >= this.#hi.length) this.#grow(i + 1);
    if (this.#hi[i] === HUGE) this.#huge.delete(i);
    if (value < SAFE) {
      this.#hi[i] = 0;
      this.#lo[i] = Number(value);
    } else if (value < WIDE) {
      this.#hi[i] = Number(value >> 32n);
      this.#lo[i] = Number(value & LOW_BITS);
    } else {
      this.#hi[i] = HUGE;
      this.#huge.set(i, value);
    }
  }

  #grow(min: number): void {
    const size = Math.max(min, this.#hi.length * 2);
    const hi = new Float64Array(size);
    const lo = new Float64Array(size);
    hi.set(this.#hi);
    lo.set(this.#lo);
    this.#hi = hi;
    this.#lo = lo;
  }
}
