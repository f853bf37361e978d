/**
 * Durations (`30s`, `15m`, `24h`, `7d`, `2w`) and ledger windows (a duration, or the calendar
 * windows `day`, `week`, `month`). All calendar arithmetic is in UTC; weeks are ISO weeks that start
 * on Monday 00:00 UTC.
 */
import type { CalendarUnit, PolicyWindow } from './types.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const UNIT_MS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK };
const UNIT_NAME: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' };

/** Longest duration a document may write (about ten years). */
export const MAX_DURATION_MS = 3650 * DAY;

export const DURATION_PATTERN = /^[1-9][0-9]{0,9}[smhdw]$/;
export const WINDOW_PATTERN = /^(day|week|month|[1-9][0-9]{0,9}[smhdw])$/;

/** Milliseconds of a duration label, or null when it is not one (or is too long). */
export function parseDuration(label: string): number | null {
  if (!DURATION_PATTERN.test(label)) return null;
  const unit = UNIT_MS[label.slice(-1)];
  if (unit === undefined) return null;
  const ms = Number(label.slice(0, -1)) * unit;
  return ms <= MAX_DURATION_MS ? ms : null;
}

export function parseWindow(label: string): PolicyWindow | null {
  if (label === 'day' || label === 'week' || label === 'month')
    return { kind: 'calendar', unit: label, label };
  const ms = parseDuration(label);
  return ms === null ? null : { kind: 'rolling', ms, label };
}

/** `24h` → `24 hours`, `1h` → `hour`, `90m` → `90 minutes`. */
export function describeDuration(label: string, singularWithoutOne = false): string {
  const n = Number(label.slice(0, -1));
  const name = UNIT_NAME[label.slice(-1)] ?? label.slice(-1);
  if (n === 1) return singularWithoutOne ? name : `1 ${name}`;
  return `${n} ${name}s`;
}

export function describeWindow(window: PolicyWindow): string {
  if (window.kind === 'rolling') return `rolling ${describeDuration(window.label, true)}`;
  switch (window.unit) {
    case 'day':
      return 'calendar day (UTC)';
    case 'week':
      return 'calendar week (ISO week from Monday 00:00 UTC)';
    case 'month':
      return 'calendar month (UTC)';
  }
}

/** Start of the calendar period containing `now` (ms epoch, UTC). */
export function periodStart(unit: CalendarUnit, now: number): number {
  const d = new Date(now);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (unit) {
    case 'day':
      return dayStart;
    case 'week':
      return dayStart - ((d.getUTCDay() + 6) % 7) * DAY;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

/** Start of the calendar period after the one containing `now`. */
export function nextPeriodStart(unit: CalendarUnit, now: number): number {
  const start = periodStart(unit, now);
  switch (unit) {
    case 'day':
      return start + DAY;
    case 'week':
      return start + WEEK;
    case 'month': {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/**
 * Whether an entry made at `at` counts in the window as seen at `now`. Rolling windows keep entries
 * strictly younger than the window (at > now − d: an entry exactly d old no longer counts); calendar
 * windows keep everything from the period start on. Entries later than `now` always count.
 */
export function inWindow(window: PolicyWindow, at: number, now: number): boolean {
  if (window.kind === 'rolling') return at > now - window.ms;
  return at >= periodStart(window.unit, now);
}

/** The earliest instant the window reaches back to at `now`. */
export function windowStart(window: PolicyWindow, now: number): number {
  return window.kind === 'rolling' ? now - window.ms : periodStart(window.unit, now);
}
