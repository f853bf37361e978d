/**
 * Amount jitter of bitcoin.send (send/amount-jitter.ts): the amount drawn always within the
 * recipient's range and the policy's caps, never below the amount asked unless the request says
 * so, uniform over the range; the policy's opt-in and caps judging the intent the draw gives; the
 * request's hostile shapes refused with a code. The send itself, on a real node: amount-jitter-
 * regtest.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isWardenError } from '../../../src/core/errors.ts';
import type { Intent } from '../../../src/core/intent.ts';
import { uniformBigint } from '../../../src/core/random.ts';
import { evaluate } from '../../../src/policy/evaluate.ts';
import { tightestCap } from '../../../src/policy/tightest-cap.ts';
import {
  drawJitteredAmount,
  type JitterCaps,
  jitterFacets,
  policyJitterCaps,
} from '../../../src/protocols/bitcoin/send/amount-jitter.ts';
import { parseSendRequest } from '../../../src/protocols/bitcoin/send/request.ts';
import { BTC_ADDR, btcIntent, NOW, policy, risk, snapshot } from '../../policy/helpers.ts';

const RUNS = Number(process.env.POLICY_PROPERTY_RUNS ?? 300);

const sat = (min: bigint, max: bigint) => fc.bigInt({ min, max });
/** A request's amount, the recipient's range around it (at least one side wider), and caps (one at least). */
const jitterCase = fc
  .record({
    requested: sat(546n, 10_000_000n),
    below: sat(0n, 100_000n),
    above: sat(0n, 100_000n),
    maxSat: fc.option(sat(0n, 50_000n), { nil: null }),
    maxBps: fc.option(sat(0n, 10_000n), { nil: null }),
  })
  .filter((c) => c.below + c.above > 0n && (c.maxSat !== null || c.maxBps !== null))
  .map((c) => ({
    requested: c.requested,
    asked: { minSat: c.requested - c.below < 1n ? 1n : c.requested - c.below, maxSat: c.requested + c.above },
    caps: { maxSat: c.maxSat, maxBps: c.maxBps } satisfies JitterCaps,
  }));

describe('the draw', () => {
  test('always within the recipient’s range and every cap; below the amount asked only when the range goes there', () => {
    fc.assert(
      fc.property(jitterCase, ({ requested, asked, caps }) => {
        const d = drawJitteredAmount(requested, asked, caps);
        assert.equal(d.requestedSat, requested);
        assert.ok(d.amountSat >= d.range.minSat && d.amountSat <= d.range.maxSat);
        assert.ok(d.amountSat >= asked.minSat && d.amountSat <= asked.maxSat, 'the recipient’s range');
        const jitter = d.amountSat > requested ? d.amountSat - requested : requested - d.amountSat;
        if (caps.maxSat !== null) assert.ok(jitter <= caps.maxSat, 'max_amount_jitter');
        // The relative cap as policy checks it: jitter × 10,000 ≤ bps × the amount asked.
        if (caps.maxBps !== null) assert.ok(jitter * 10_000n <= caps.maxBps * requested, 'bps');
        if (asked.minSat === requested) assert.ok(d.amountSat >= requested, 'never less than asked');
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('the range is exactly the recipient’s cut to the tightest cap (both ends reachable)', () => {
    // 20,000 asked, 19,900–20,300 accepted, caps 500 sat and 100 bps (200 sat): 19,900–20,200.
    const d = drawJitteredAmount(
      20_000n,
      { minSat: 19_900n, maxSat: 20_300n },
      { maxSat: 500n, maxBps: 100n },
    );
    assert.deepEqual(d.range, { minSat: 19_900n, maxSat: 20_200n });
    const r = drawJitteredAmount(20_000n, { minSat: 20_000n, maxSat: 30_000n }, { maxSat: 7n, maxBps: null });
    assert.deepEqual(r.range, { minSat: 20_000n, maxSat: 20_007n });
  });

  test('uniform: 10 values drawn 20,000 times pass a χ² test; every value of an odd-sized range appears', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[Number(uniformBigint(100n, 109n) - 100n)]!++;
    const chi2 = counts.reduce((s, c) => s + (c - 2000) ** 2 / 2000, 0);
    // 9 degrees of freedom: P(χ² > 27.88) = 0.001 for a uniform draw.
    assert.ok(chi2 < 27.88, `χ² = ${chi2.toFixed(2)} over ${counts.join(', ')}`);
    // 9 values (a width of 8 needs 4 bits, half of them redrawn): none missing, none outside.
    const seen = new Set<bigint>();
    for (let i = 0; i < 2_000; i++) {
      const v = uniformBigint(5n, 13n);
      assert.ok(v >= 5n && v <= 13n);
      seen.add(v);
    }
    assert.equal(seen.size, 9);
  });

  test('wide ranges (beyond 2^53) stay in bounds; a point range is the point; an inverted one throws', () => {
    fc.assert(
      fc.property(sat(0n, 2n ** 80n), sat(0n, 2n ** 80n), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const v = uniformBigint(lo, hi);
        assert.ok(v >= lo && v <= hi);
      }),
      { numRuns: RUNS },
    );
    assert.equal(uniformBigint(42n, 42n), 42n);
    assert.throws(() => uniformBigint(2n, 1n), RangeError);
  });
});

/** The intent a jittered send of `requested` paying `paid` gives policy (the module's own facets). */
function jittered(requested: bigint, paid: bigint): Intent {
  return {
    ...btcIntent(paid),
    facets: {
      network: 'bitcoin',
      ...jitterFacets({ requestedSat: requested, amountSat: paid, range: { minSat: paid, maxSat: paid } }),
    },
  };
}
const plain = (amount: bigint): Intent => ({
  ...btcIntent(amount),
  facets: { network: 'bitcoin', ...jitterFacets(null) },
});
const judge = (p: ReturnType<typeof policy>, intent: Intent) => evaluate(intent, risk(), snapshot(), p, NOW);

describe('the policy: opt-in by name, capped in sat and in bps of the amount asked', () => {
  const optedIn = policy(`rules:
  - id: sends
    match: { protocol: bitcoin, action: send }
    effect: allow
  - id: jittered-sends
    match: { protocol: bitcoin, action: send, amount_jitter: jittered }
    effect: allow
    max_amount_jitter: 500
    max_amount_jitter_bps: 100
`);
  const broadOnly = policy(`rules:
  - id: sends
    match: { protocol: bitcoin, action: send }
    effect: allow
    max_amount_jitter: 500
`);

  test('a broad rule never allows a jittered send: NO_MATCHING_RULE, the remedy naming the facet', () => {
    const d = judge(broadOnly, jittered(20_000n, 20_100n));
    assert.equal(d.code, 'NO_MATCHING_RULE');
    assert.match(d.trail[0]?.mismatch ?? '', /amount jitter/);
    assert.match(d.remedy ?? '', /amount_jitter: "jittered"|amount_jitter: jittered/);
    assert.equal(judge(broadOnly, plain(20_000n)).code, 'ALLOWED', 'the amount asked, paid exactly, passes');
  });

  test('the rule naming it allows jitter up to its caps: 200 sat of 20,000 (1%) passes, 201 is denied', () => {
    const ok = judge(optedIn, jittered(20_000n, 19_800n));
    assert.equal(ok.code, 'ALLOWED', ok.reason);
    assert.equal(ok.decidingRule, 'jittered-sends');
    assert.deepEqual(
      ok.trail[1]?.limits.map((l) => [l.limit, l.request, l.cap, l.ok]),
      [
        ['max_amount_jitter', 200n, 500n, true],
        ['max_amount_jitter_bps', 200n, 200n, true],
      ],
    );
    const over = judge(optedIn, jittered(20_000n, 20_201n));
    assert.equal(over.code, 'LIMIT_EXCEEDED');
    assert.equal(over.decidingRule, 'jittered-sends');
    assert.match(over.reason, /amount jitter 201 sat is above the max_amount_jitter_bps/);
    // A send without jitter: the caps do not concern it, and the trail says so.
    const exact = judge(broadOnly, plain(20_000n));
    assert.equal(exact.code, 'ALLOWED');
    assert.ok(
      exact.trail[0]?.notes.includes('max_amount_jitter does not apply: not a jittered Bitcoin send'),
      JSON.stringify(exact.trail[0]),
    );
  });

  test('tightestCap reads the smallest value any rule sets; a policy without one refuses jitter', () => {
    assert.equal(tightestCap(optedIn, 'max_amount_jitter'), 500n);
    assert.equal(tightestCap(optedIn, 'max_amount_jitter_bps'), 100n);
    assert.equal(tightestCap(broadOnly, 'max_amount_jitter_bps'), null);
    const caps = policyJitterCaps((name) => tightestCap(optedIn, name));
    assert.deepEqual(caps, { maxSat: 500n, maxBps: 100n });
    const none = policy('rules:\n  - { id: sends, match: { protocol: bitcoin }, effect: allow }\n');
    for (const cap of [(name: string) => tightestCap(none, name), undefined])
      assert.throws(
        () => policyJitterCaps(cap),
        (e: unknown) => isWardenError(e, 'AMOUNT_JITTER_NOT_ALLOWED'),
      );
  });

  test('whatever the draw gives under the policy’s tightest caps, the policy allows (property)', () => {
    const caps = policyJitterCaps((name) => tightestCap(optedIn, name));
    fc.assert(
      fc.property(sat(546n, 5_000_000n), sat(1n, 100_000n), (requested, width) => {
        const d = drawJitteredAmount(
          requested,
          { minSat: requested - width < 1n ? 1n : requested - width, maxSat: requested + width },
          caps,
        );
        assert.equal(judge(optedIn, jittered(requested, d.amountSat)).code, 'ALLOWED');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the request: amount_jitter is the recipient’s range, hostile shapes refused with a code', () => {
  const send = (jitter: unknown, extra: Record<string, unknown> = {}) =>
    parseSendRequest({ to: BTC_ADDR, amount_sat: '20000', amount_jitter: jitter, ...extra });

  test('the range, with min defaulting to amount_sat (never less unless asked) and max likewise', () => {
    assert.deepEqual(send({ max_amount_sat: '20300' }).jitter, { minSat: 20_000n, maxSat: 20_300n });
    // One payment in the list form too (the stored form of a held send is that one).
    const listed = parseSendRequest({
      outputs: [{ to: BTC_ADDR, amount_sat: '20000' }],
      amount_jitter: { max_amount_sat: '20300' },
    });
    assert.deepEqual(listed.jitter, { minSat: 20_000n, maxSat: 20_300n });
    assert.deepEqual(send({ min_amount_sat: '19900' }).jitter, { minSat: 19_900n, maxSat: 20_000n });
    assert.equal(send(null).jitter, null);
    assert.equal(parseSendRequest({ to: BTC_ADDR, amount_sat: '20000' }).jitter, null);
  });

  test('asked without allowing another amount, a range not around the amount, several outputs, bad types', () => {
    const cases: [unknown, string][] = [
      [{}, 'INVALID_REQUEST'],
      [{ max_amount_sat: '20000', min_amount_sat: '20000' }, 'INVALID_REQUEST'],
      [{ max_amount_sat: '19999' }, 'INVALID_REQUEST'],
      [{ min_amount_sat: '20001' }, 'INVALID_REQUEST'],
      [{ max_amount_sat: 20300 }, 'INVALID_AMOUNT'],
      [{ max_amount_sat: '0' }, 'INVALID_AMOUNT'],
      [{ max_amount_sat: '1e5' }, 'INVALID_AMOUNT'],
      [{ max_amount_sat: '20300', spread: '5' }, 'INVALID_REQUEST'],
      [true, 'INVALID_REQUEST'],
      ['20300', 'INVALID_REQUEST'],
      [[{ max_amount_sat: '20300' }], 'INVALID_REQUEST'],
    ];
    for (const [jitter, code] of cases)
      assert.throws(
        () => send(jitter),
        (e: unknown) => isWardenError(e, code as never),
        JSON.stringify(jitter),
      );
    assert.throws(
      () =>
        parseSendRequest({
          outputs: [
            { to: BTC_ADDR, amount_sat: '20000' },
            { to: BTC_ADDR, amount_sat: '30000' },
          ],
          amount_jitter: { max_amount_sat: '20300' },
        }),
      (e: unknown) => isWardenError(e, 'INVALID_REQUEST'),
    );
  });

  test('anything under amount_jitter: a WardenError or a range around the amount, never anything else', () => {
    fc.assert(
      fc.property(fc.anything(), (jitter) => {
        try {
          const r = send(jitter).jitter;
          if (r !== null) assert.ok(r.minSat <= 20_000n && r.maxSat >= 20_000n && r.minSat < r.maxSat);
        } catch (e) {
          assert.ok(isWardenError(e), String(e));
        }
      }),
      { numRuns: RUNS },
    );
  });
});
