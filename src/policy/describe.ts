/** Words for decisions: times and durations as people read them (requests: words.ts). */

/** ISO time without a zero millisecond part: `2026-01-01T13:00:00Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const UNITS: [number, string][] = [
  [7 * 24 * 3600 * 1000, 'week'],
  [24 * 3600 * 1000, 'day'],
  [3600 * 1000, 'hour'],
  [60 * 1000, 'minute'],
  [1000, 'second'],
];

/** 86400000 → `24 hours`, 604800000 → `7 days`, 90000 → `90 seconds`. Whole units only. */
export function describeMs(ms: number): string {
  for (const [size, name] of UNITS) {
    if (ms % size === 0 && ms / size >= 1) {
      // Prefer hours up to 48 h and days up to 13 d: "24 hours", "2 days" reads oddly as "1 day".
      if (name === 'week' && ms / size < 2) continue;
      if (name === 'day' && ms / size < 3 && ms % (3600 * 1000) === 0) continue;
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}
