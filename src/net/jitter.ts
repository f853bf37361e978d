/**
 * Timing jitter for what leaves on an identity's behalf (a broadcast, a publish): each send waits
 * a delay drawn uniformly in [min, max] ms from the CSPRNG (`node:crypto` randomInt, never a
 * predictable generator), so the moment a transaction reaches the network says less about the moment the
 * agent asked for it.
 *
 * A fixed range cannot hide every cadence: requests every T ms with delays uniform over a range R
 * leave send intervals with a coefficient of variation (stddev / mean) of about 0.41·R / T, so a
 * regular agent stays visible whenever R < 0.74·T. The scheduler therefore watches, per identity,
 * the last `window` request times and the last `window` actual send times; when the intervals of
 * either are regular (CV < 0.3, the threshold of the OPSEC guideline, judged on at least
 * MIN_INTERVALS intervals) it widens that identity's range to
 * [min, max(2·max, min + 2·mean interval)], at most `ceilingMs`, and says so once per episode
 * (`onPattern`) so the gateway can raise an alert. Every draw reports whether it was widened.
 *
 * Pure but for the CSPRNG: time comes in as arguments (ms since the epoch), nothing reads a clock.
 */
import { randomInt } from 'node:crypto';

/** Intervals below this coefficient of variation are a pattern (OPSEC guideline: CV < 0.3). */
export const PATTERN_CV = 0.3;
/** How many recent times are kept per identity, for requests and for sends each. */
export const JITTER_WINDOW = 16;
/**
 * The fewest intervals a pattern is judged on. The guideline judges five operations, but four
 * intervals of random (Poisson) arrivals look regular (CV < 0.3) 3% of the time; eight, under 0.1%.
 */
export const MIN_INTERVALS = 8;
/** The widest a widened range may reach by default: 5 minutes (below the 10 min "stuck" mark). */
export const JITTER_CEILING_MS = 5 * 60_000;

export interface JitterRange {
  minMs: number;
  maxMs: number;
}

/** A regular cadence found for one identity: what the gateway turns into an alert. */
export interface JitterPattern {
  identity: string;
  /** Which series was regular: the agent's requests, or what actually left. */
  source: 'requests' | 'sends';
  cv: number;
  meanIntervalMs: number;
  /** The range the identity's sends are drawn from while the pattern lasts. */
  widened: JitterRange;
}

export interface JitterDraw {
  delayMs: number;
  /** `now + delayMs`: when the send is due. */
  sendAt: number;
  range: JitterRange;
  /** True when a pattern widened the range of this draw. */
  widened: boolean;
  /** The pattern that widened it, if any. */
  pattern: JitterPattern | null;
  /** True for the draw that found the pattern (the one `onPattern` was called for). */
  alert: boolean;
}

export interface JitterOptions {
  window?: number;
  ceilingMs?: number;
  /** Called once when an identity's sends become regular (again); not at every widened draw. */
  onPattern?: (pattern: JitterPattern) => void;
}

/** Coefficient of variation (sample stddev / mean) of the intervals of `times`, in time order. */
export function intervalCv(times: readonly number[]): { cv: number; mean: number } | null {
  if (times.length < MIN_INTERVALS + 1) return null;
  const sorted = [...times].sort((a, b) => a - b);
  const intervals = sorted.slice(1).map((t, i) => t - (sorted[i] as number));
  const mean = intervals.reduce((s, x) => s + x, 0) / intervals.length;
  // All at once (a burst) is no cadence: the draws spread it.
  if (mean <= 0) return null;
  const variance = intervals.reduce((s, x) => s + (x - mean) ** 2, 0) / (intervals.length - 1);
  return { cv: Math.sqrt(variance) / mean, mean };
}

/** A delay uniform in [min, max] (both included) from the CSPRNG. */
export function drawDelay(range: JitterRange): number {
  return range.minMs === range.maxMs ? range.minMs : randomInt(range.minMs, range.maxMs + 1);
}

interface IdentityTimes {
  requests: number[];
  sends: number[];
  /** Whether the last draw was widened: `onPattern` fires on the change to true. */
  widened: boolean;
}

export class JitterScheduler {
  readonly range: JitterRange;
  readonly #window: number;
  readonly #ceiling: number;
  readonly #onPattern: ((pattern: JitterPattern) => void) | undefined;
  readonly #identities = new Map<string, IdentityTimes>();

  constructor(range: JitterRange, options: JitterOptions = {}) {
    const { minMs, maxMs } = range;
    if (!Number.isSafeInteger(minMs) || !Number.isSafeInteger(maxMs) || minMs < 0 || maxMs < minMs)
      throw new RangeError(`jitter range must be whole ms with 0 <= min <= max, not ${minMs}..${maxMs}`);
    this.range = { minMs, maxMs };
    this.#window = options.window ?? JITTER_WINDOW;
    this.#ceiling = Math.max(options.ceilingMs ?? JITTER_CEILING_MS, maxMs);
    this.#onPattern = options.onPattern;
  }

  /** The delay of a send `identity` asks for at `now`; records the request time. */
  delayFor(identity: string, now: number): JitterDraw {
    const times = this.#times(identity);
    push(times.requests, now, this.#window);
    const pattern = this.#pattern(identity, times);
    const range = pattern?.widened ?? this.range;
    const alert = pattern !== null && !times.widened;
    if (alert) this.#onPattern?.(pattern);
    times.widened = pattern !== null;
    const delayMs = drawDelay(range);
    return { delayMs, sendAt: now + delayMs, range, widened: pattern !== null, pattern, alert };
  }

  /** Records that a send of `identity` actually left at `at`. */
  sent(identity: string, at: number): void {
    push(this.#times(identity).sends, at, this.#window);
  }

  #times(identity: string): IdentityTimes {
    let times = this.#identities.get(identity);
    if (!times) {
      times = { requests: [], sends: [], widened: false };
      this.#identities.set(identity, times);
    }
    return times;
  }

  /** The more regular of the two series, if either is below PATTERN_CV. */
  #pattern(identity: string, times: IdentityTimes): JitterPattern | null {
    const found = (['requests', 'sends'] as const)
      .map((source) => ({ source, stats: intervalCv(times[source]) }))
      .filter((s) => s.stats !== null && s.stats.cv < PATTERN_CV)
      .sort((a, b) => (a.stats?.cv ?? 0) - (b.stats?.cv ?? 0))[0];
    if (!found?.stats) return null;
    const { cv, mean } = found.stats;
    const { minMs, maxMs } = this.range;
    const widenedMax = Math.min(this.#ceiling, Math.max(2 * maxMs, Math.round(minMs + 2 * mean)));
    return {
      identity,
      source: found.source,
      cv,
      meanIntervalMs: mean,
      widened: { minMs, maxMs: widenedMax },
    };
  }
}

function push(list: number[], value: number, window: number): void {
  list.push(value);
  if (list.length > window) list.splice(0, list.length - window);
}
