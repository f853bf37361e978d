/**
 * Caps relative to a reference (vocabulary.ts RelativeCap), through the real Bitcoin caps:
 * `max_fee_share_bps` (the fee in basis points of the amount) and `max_fee_rate_estimate_pct`
 * (the fee rate in percent of the node's next-block estimate). Exact integer arithmetic, the
 * boundary itself passing, and a cap that concerns a request but cannot be measured refusing it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isWardenError } from '../../src/core/errors.ts';
import type { Intent } from '../../src/core/intent.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import { createPolicyLanguage } from '../../src/policy/language.ts';
import { measureCap } from '../../src/policy/relative-cap.ts';
import { BITCOIN_VOCABULARY } from '../../src/protocols/bitcoin/policy.ts';
import { POLICY_LANGUAGE } from '../../src/protocols/policy-language.ts';
import { btcIntent, evmIntent, NOW, policy, risk, snapshot } from './helpers.ts';

const RUNS = Number(process.env.POLICY_PROPERTY_RUNS ?? 300);

/** A Bitcoin PSBT signature of `amount` paying `fee`, its rate and the node's estimate in msat/vB. */
function psbt(amount: bigint, fee: bigint, rate: bigint, estimate: bigint | null | 'absent'): Intent {
  return {
    ...btcIntent(amount),
    action: 'sign_psbt',
    maxFee: fee,
    facets: {
      network: 'bitcoin',
      max_fee: fee,
      max_fee_rate: (rate + 999n) / 1000n,
      fee_rate_msat_vb: rate,
      ...(estimate === 'absent' ? {} : { fee_estimate_msat_vb: estimate }),
    },
  };
}

const judge = (p: ReturnType<typeof policy>, intent: Intent) => evaluate(intent, risk(), snapshot(), p, NOW);

describe('max_fee_share_bps: the fee in basis points of the amount', () => {
  const p = policy(
    'rules:\n  - { id: share, match: { protocol: bitcoin }, effect: allow, max_fee_share_bps: 100 }\n',
  );

  test('1% of 10,000 sat is 100 sat: 100 passes, 101 is denied with the numbers', () => {
    const ok = judge(p, psbt(10_000n, 100n, 1_000n, null));
    assert.equal(ok.code, 'ALLOWED');
    assert.deepEqual(
      ok.trail[0]?.limits.map((l) => [l.limit, l.request, l.cap, l.ok]),
      [['max_fee_share_bps', 100n, 100n, true]],
    );
    const over = judge(p, psbt(10_000n, 101n, 1_000n, null));
    assert.equal(over.code, 'LIMIT_EXCEEDED');
    assert.equal(over.decidingRule, 'share');
    assert.equal(
      over.reason,
      'Denied: Bitcoin fee 101 sat is above the max_fee_share_bps of rule share (100 bps (1.00%) of the amount 10,000 sat: at most 100 sat).',
    );
    assert.equal(
      over.remedy,
      'pay a fee of at most 100 sat, or pay a larger amount, or ask an operator to raise max_fee_share_bps of rule share',
    );
  });

  test('rounding is on the safe side: 1% of 10,099 sat allows 100 sat, not 101', () => {
    assert.equal(judge(p, psbt(10_099n, 100n, 1_000n, null)).code, 'ALLOWED');
    assert.equal(judge(p, psbt(10_099n, 101n, 1_000n, null)).code, 'LIMIT_EXCEEDED');
    assert.equal(judge(p, psbt(10_100n, 101n, 1_000n, null)).code, 'ALLOWED');
  });

  test('explained in words: the amount is always known, so nothing is said of an unknown one', () => {
    assert.ok(
      POLICY_LANGUAGE.explain(p).includes(
        'Rule share: the Bitcoin fee may be at most 100 bps (1.00%) of the amount.',
      ),
    );
  });

  test('an amount of 0 allows no fee at all; a request without a fee is not concerned', () => {
    assert.equal(judge(p, psbt(0n, 1n, 1_000n, null)).code, 'LIMIT_EXCEEDED');
    assert.equal(judge(p, psbt(0n, 0n, 0n, null)).code, 'ALLOWED');
    const any = policy('rules:\n  - { id: share, effect: allow, max_fee_share_bps: 100 }\n');
    const evm = judge(any, evmIntent(10n));
    assert.equal(evm.code, 'ALLOWED');
    assert.deepEqual(evm.trail[0]?.notes, [
      'max_fee_share_bps does not apply: not a Bitcoin request with a proven fee',
    ]);
  });
});

describe('max_fee_rate_estimate_pct: the fee rate in percent of the node’s next-block estimate', () => {
  const p = policy(
    'rules:\n  - { id: fast, match: { protocol: bitcoin }, effect: allow, max_fee_rate_estimate_pct: 200 }\n',
  );

  test('twice an estimate of 10.5 sat/vB is 21 sat/vB: exactly that passes, 1 msat/vB more is denied', () => {
    assert.equal(judge(p, psbt(50_000n, 5_000n, 21_000n, 10_500n)).code, 'ALLOWED');
    const over = judge(p, psbt(50_000n, 5_000n, 21_001n, 10_500n));
    assert.equal(over.code, 'LIMIT_EXCEEDED');
    assert.equal(
      over.reason,
      "Denied: Bitcoin fee rate 21.001 sat/vB is above the max_fee_rate_estimate_pct of rule fast (200% of the node's next-block fee estimate 10.500 sat/vB: at most 21.000 sat/vB).",
    );
    assert.match(
      over.remedy ?? '',
      /^pay a fee rate of at most 21\.000 sat\/vB, or ask an operator to raise/,
    );
  });

  test('no estimate (null, or never measured) refuses: LIMIT_UNMEASURABLE, with the reason and a remedy', () => {
    for (const estimate of [null, 'absent'] as const) {
      const d = judge(p, psbt(50_000n, 5_000n, 1_000n, estimate));
      assert.equal(d.outcome, 'deny', String(estimate));
      assert.equal(d.code, 'LIMIT_UNMEASURABLE');
      assert.equal(d.decidingRule, 'fast');
      assert.equal(
        d.reason,
        "Denied: the max_fee_rate_estimate_pct of rule fast caps the Bitcoin fee rate at 200% of the node's next-block fee estimate, which cannot be measured for signing a PSBT that sends 50,000 sat on Bitcoin to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh (no fee estimate: no Bitcoin node is configured for the network, it did not answer, or it has none), and a cap that cannot be checked refuses.",
      );
      assert.equal(
        d.remedy,
        'retry once the node has a fee estimate (protocols.bitcoin.nodes must have one for the network), or ask an operator to remove max_fee_rate_estimate_pct from rule fast',
      );
      assert.deepEqual(d.trail[0]?.limits, []);
      assert.match(
        d.trail[0]?.notes[0] ?? '',
        /^max_fee_rate_estimate_pct cannot be checked: no fee estimate/,
      );
    }
  });

  test('other rules are unaffected: without an estimate only the rule with the cap refuses', () => {
    const two = policy(`rules:
  - { id: small, match: { protocol: bitcoin, amount: { max: 999 } }, effect: allow, max_fee_rate_estimate_pct: 300 }
  - { id: large, match: { protocol: bitcoin, amount: { min: 1000 } }, effect: allow, max_fee: 10000 }
`);
    assert.equal(judge(two, psbt(5_000n, 500n, 1_000n, null)).code, 'ALLOWED');
    assert.equal(judge(two, psbt(500n, 50n, 1_000n, null)).code, 'LIMIT_UNMEASURABLE');
    assert.equal(judge(two, psbt(500n, 50n, 1_000n, 1_000n)).code, 'ALLOWED');
  });

  test('a cap that cannot be checked decides before a limit exceeded (lowering the amount would not help)', () => {
    const both = policy(
      'rules:\n  - { id: r, match: { protocol: bitcoin }, effect: allow, max_per_tx: 10, max_fee_rate_estimate_pct: 100 }\n',
    );
    const d = judge(both, psbt(50_000n, 5_000n, 1_000n, null));
    assert.equal(d.code, 'LIMIT_UNMEASURABLE');
    assert.equal(d.trail[0]?.limits[0]?.ok, false, 'the exceeded limit is still in the trail');
  });

  test('explained in one sentence, the refusal without an estimate included', () => {
    assert.ok(
      POLICY_LANGUAGE.explain(p).includes(
        "Rule fast: the Bitcoin fee rate may be at most 200% of the node's next-block fee estimate, and a request is denied when the node's next-block fee estimate is unknown.",
      ),
    );
  });
});

describe('exact integer arithmetic, whatever the numbers', () => {
  const share = BITCOIN_VOCABULARY.caps!.find((c) => c.name === 'max_fee_share_bps')!;
  const pct = BITCOIN_VOCABULARY.caps!.find((c) => c.name === 'max_fee_rate_estimate_pct')!;
  const big = fc.bigInt({ min: 0n, max: 2n ** 80n });

  test('passes exactly when quantity × scale ≤ value × reference (bps of the amount)', () => {
    fc.assert(
      fc.property(big, big, fc.bigInt({ min: 0n, max: 1_000_000n }), (fee, amount, value) => {
        const m = measureCap({ name: share.name, max: value }, share, psbt(amount, fee, 0n, null));
        assert.equal(m.kind, 'measured');
        if (m.kind !== 'measured') return;
        assert.equal(m.quantity <= m.cap, fee * 10_000n <= value * amount);
        // The cap shown is the largest fee that passes.
        assert.ok(m.cap * 10_000n <= value * amount && (m.cap + 1n) * 10_000n > value * amount);
      }),
      { numRuns: RUNS },
    );
  });

  test('passes exactly when rate × 100 ≤ percent × estimate; no estimate never passes', () => {
    fc.assert(
      fc.property(big, big, fc.bigInt({ min: 0n, max: 100_000n }), (rate, estimate, value) => {
        const m = measureCap({ name: pct.name, max: value }, pct, psbt(1n, 1n, rate, estimate));
        assert.equal(m.kind, 'measured');
        if (m.kind === 'measured') assert.equal(m.quantity <= m.cap, rate * 100n <= value * estimate);
        assert.equal(
          measureCap({ name: pct.name, max: value }, pct, psbt(1n, 1n, rate, null)).kind,
          'unmeasurable',
        );
      }),
      { numRuns: RUNS },
    );
  });

  test('a higher fee never passes where a lower one failed (monotone), through evaluate', () => {
    const p = policy(
      'rules:\n  - { id: s, match: { protocol: bitcoin }, effect: allow, max_fee_share_bps: 250 }\n',
    );
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.bigInt({ min: 0n, max: 10n ** 7n }),
        (amount, fee) => {
          const allowed = judge(p, psbt(amount, fee, 0n, null)).code === 'ALLOWED';
          if (!allowed) assert.notEqual(judge(p, psbt(amount, fee + 1n, 0n, null)).code, 'ALLOWED');
          assert.equal(allowed, fee * 10_000n <= 250n * amount);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('declaring a relative cap', () => {
  const declare = (relative: object) =>
    createPolicyLanguage([
      {
        ...BITCOIN_VOCABULARY,
        caps: [{ ...BITCOIN_VOCABULARY.caps![0]!, name: 'max_odd', relative } as never],
      },
    ]);
  const base = {
    facet: 'max_fee',
    reference: 'amount',
    formatValue: String,
    referenceWords: 'x',
    unmeasurable: 'u',
    unmeasurableRemedy: 'r',
  };

  test('needs a positive scale and well-named facets that are no key of every policy', () => {
    for (const bad of [
      { ...base, scale: 0n },
      { ...base, scale: -1n },
      { ...base, scale: 100 },
      { ...base, scale: 100n, facet: 'Bad-Name' },
      { ...base, scale: 100n, reference: { facet: 'amount' } },
    ])
      assert.throws(
        () => declare(bad),
        (e) => isWardenError(e, 'INVALID_ARGUMENT'),
        JSON.stringify(bad, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      );
    assert.ok(declare({ ...base, scale: 100n }));
  });
});
