import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  intervalCv,
  JITTER_CEILING_MS,
  type JitterPattern,
  JitterScheduler,
  PATTERN_CV,
} from '../../src/net/jitter.ts';

/**
 * Drives a scheduler with requests at the given times (an injected clock: plain ms) and sends
 * each when its delay is due, in time order, telling the scheduler as a gateway would.
 */
function run(scheduler: JitterScheduler, requestTimes: readonly number[], identity = 'agent') {
  const due: number[] = [];
  const sends: number[] = [];
  const draws = [];
  const leave = (until: number) => {
    due.sort((a, b) => a - b);
    while (due.length > 0 && (due[0] as number) <= until) {
      const at = due.shift() as number;
      scheduler.sent(identity, at);
      sends.push(at);
    }
  };
  for (const now of requestTimes) {
    leave(now);
    const draw = scheduler.delayFor(identity, now);
    draws.push(draw);
    due.push(draw.sendAt);
  }
  leave(Number.POSITIVE_INFINITY);
  return { sends, draws };
}

/** A small deterministic generator for the test's own irregular arrivals (not the scheduler's). */
function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const regular = (n: number, every: number) =>
  Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * every);

test('a perfectly regular stream of 200 requests: the CV of the actual send intervals is >= 0.3', () => {
  // Request intervals from well inside the range to three times its top.
  for (const every of [10, 25, 40, 120]) {
    const requests = regular(200, every);
    assert.equal(intervalCv(requests)?.cv, 0, 'the requests themselves are perfectly regular');
    const patterns: JitterPattern[] = [];
    const scheduler = new JitterScheduler({ minMs: 10, maxMs: 40 }, { onPattern: (p) => patterns.push(p) });
    const { sends } = run(scheduler, requests);
    assert.equal(sends.length, 200);
    const measured = intervalCv(sends);
    assert.ok(measured, 'intervals measured');
    console.log(
      `requests every ${every} ms, range 10..40 ms: CV of send intervals ${measured.cv.toFixed(3)}`,
    );
    assert.ok(
      measured.cv >= PATTERN_CV,
      `CV ${measured.cv} of the send intervals (requests every ${every} ms)`,
    );
    // Judged from the ninth request on, and alerted once for the whole regular episode.
    assert.equal(patterns.length, 1);
    assert.equal(patterns[0]?.source, 'requests');
  }
});

test('every draw stays within its range, whole ms, and the unwidened range is covered', () => {
  const scheduler = new JitterScheduler({ minMs: 10, maxMs: 40 });
  const seen = new Set<number>();
  // Irregular arrivals, so no pattern widens the range: every draw is in [10, 40].
  const next = seeded(7);
  let t = 0;
  for (let i = 0; i < 5000; i++) {
    t += Math.floor(next() * 1000);
    const draw = scheduler.delayFor(`id-${i % 3}`, t);
    assert.ok(Number.isInteger(draw.delayMs));
    assert.ok(draw.delayMs >= draw.range.minMs && draw.delayMs <= draw.range.maxMs, `${draw.delayMs}`);
    assert.equal(draw.sendAt, t + draw.delayMs);
    if (!draw.widened) seen.add(draw.delayMs);
  }
  assert.equal(Math.min(...seen), 10, 'min is drawn');
  assert.equal(Math.max(...seen), 40, 'max is drawn');
  assert.equal(seen.size, 31, 'every ms of 10..40 occurs');
});

test('a regular stream is detected and widens the range (2 x max, or 2 x the interval), capped', () => {
  const patterns: JitterPattern[] = [];
  const scheduler = new JitterScheduler({ minMs: 10, maxMs: 40 }, { onPattern: (p) => patterns.push(p) });
  const { draws } = run(scheduler, regular(30, 100));
  // Judged on eight intervals at least: the ninth draw is the first widened.
  assert.deepEqual(
    draws.slice(0, 9).map((d) => d.widened),
    [...Array(8).fill(false), true],
  );
  assert.ok(draws.slice(8).every((d) => d.widened && d.range.maxMs === 10 + 200));
  assert.ok(draws.slice(8).every((d) => d.delayMs >= 10 && d.delayMs <= 210));
  assert.equal(patterns.length, 1);
  assert.equal(patterns[0]?.cv, 0);
  assert.equal(patterns[0]?.meanIntervalMs, 100);
  assert.deepEqual(patterns[0]?.widened, { minMs: 10, maxMs: 210 });

  // A faster stream doubles max; a slower one than the ceiling allows is capped at the ceiling.
  const fast = new JitterScheduler({ minMs: 10, maxMs: 40 });
  assert.equal(run(fast, regular(10, 5)).draws.at(-1)?.range.maxMs, 80);
  const slow = new JitterScheduler({ minMs: 2000, maxMs: 30_000 });
  assert.equal(run(slow, regular(10, 3_600_000)).draws.at(-1)?.range.maxMs, JITTER_CEILING_MS);
});

test('irregular streams do not trigger: Poisson arrivals, bursts, and too few requests', () => {
  const next = seeded(42);
  for (let trial = 0; trial < 20; trial++) {
    const patterns: JitterPattern[] = [];
    const scheduler = new JitterScheduler({ minMs: 10, maxMs: 40 }, { onPattern: (p) => patterns.push(p) });
    let t = 0;
    const times = Array.from({ length: 200 }, () => {
      t += Math.round(-Math.log(1 - next()) * 200); // exponential, mean 200 ms: CV 1
      return t;
    });
    const { draws } = run(scheduler, times);
    assert.equal(patterns.length, 0, `trial ${trial}`);
    assert.ok(draws.every((d) => !d.widened && d.range.maxMs === 40));
  }
  // Requests all at one instant are a burst, not a cadence.
  const burst = new JitterScheduler({ minMs: 10, maxMs: 40 });
  assert.ok(run(burst, Array(50).fill(1000)).draws.every((d) => !d.widened));
  // Eight requests: seven intervals, too few to judge.
  const few = new JitterScheduler({ minMs: 10, maxMs: 40 });
  assert.ok(run(few, regular(8, 100)).draws.every((d) => !d.widened));
});

test('a regular cadence of sends is caught even when requests look irregular', () => {
  // With no delay there is nothing to spread; sends every 100 ms exactly while the agent's
  // request times (as the scheduler saw them) vary: the sends series alone is the pattern.
  const patterns: JitterPattern[] = [];
  const scheduler = new JitterScheduler({ minMs: 0, maxMs: 0 }, { onPattern: (p) => patterns.push(p) });
  const next = seeded(3);
  for (let i = 0; i < 12; i++) {
    scheduler.delayFor('agent', i * 100 - Math.floor(next() * 5000));
    scheduler.sent('agent', i * 100);
  }
  const draw = scheduler.delayFor('agent', 10_000);
  assert.equal(draw.pattern?.source, 'sends');
  assert.equal(draw.range.maxMs, 200);
  assert.equal(patterns.length, 1);
});

test('identities are judged apart: one regular identity does not widen another', () => {
  const scheduler = new JitterScheduler({ minMs: 10, maxMs: 40 });
  run(scheduler, regular(20, 100), 'regular');
  const next = seeded(9);
  let t = 0;
  const other = run(
    scheduler,
    Array.from({ length: 20 }, () => (t += Math.round(-Math.log(1 - next()) * 200))),
    'other',
  );
  assert.ok(other.draws.every((d) => !d.widened));
  assert.ok(scheduler.delayFor('regular', 1_700_000_002_000).widened);
});

test('a range is whole ms with 0 <= min <= max', () => {
  assert.throws(() => new JitterScheduler({ minMs: 5, maxMs: 4 }), RangeError);
  assert.throws(() => new JitterScheduler({ minMs: -1, maxMs: 4 }), RangeError);
  assert.throws(() => new JitterScheduler({ minMs: 0.5, maxMs: 4 }), RangeError);
  assert.equal(new JitterScheduler({ minMs: 7, maxMs: 7 }).delayFor('a', 0).delayMs, 7);
});
