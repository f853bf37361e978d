import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decision } from '../../src/core/decision.ts';
import type { Intent } from '../../src/core/intent.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import type { LedgerEntry } from '../../src/policy/snapshot.ts';
import { POLICY_TEMPLATES } from '../../src/policy/templates.ts';
import { assessRisk } from '../../src/risk/index.ts';
import {
  BTC_ADDR,
  btcIntent,
  EVM_ADDR,
  entry,
  evmIntent,
  HOUR,
  lnIntent,
  NOW,
  nostrIntent,
  risk,
  snapshot,
} from './helpers.ts';

const template = parsePolicy(POLICY_TEMPLATES['guidelines-default'] ?? '');
const t = NOW.getTime();

const decide = (intent: Intent, entries: LedgerEntry[] = [], known: string[] = [], score = 8): Decision =>
  evaluate(intent, risk(score), snapshot(entries, known), template, NOW);

describe('guidelines-default: Bitcoin and Lightning', () => {
  for (const [name, make] of [
    ['bitcoin', btcIntent],
    ['lightning', lnIntent],
  ] as const) {
    test(`${name}: 999 sat allowed, 1,000 and 100,000 held for 1 approval, 100,001 held for 1 approval + 24 h`, () => {
      assert.equal(decide(make(999n)).outcome, 'allow');
      for (const amount of [1000n, 100_000n]) {
        const d = decide(make(amount));
        assert.equal(d.outcome, 'hold', `${amount}`);
        assert.equal(d.decidingRule, 'btc-medium');
        assert.deepEqual([d.hold?.approvals, d.hold?.delaySeconds], [1, 0]);
      }
      const large = decide(make(100_001n));
      assert.equal(large.outcome, 'hold');
      assert.equal(large.decidingRule, 'btc-large');
      assert.deepEqual([large.hold?.approvals, large.hold?.delaySeconds], [1, 86_400]);
    });

    test(`${name}: 5,000,000 sat held, 5,000,001 denied LIMIT_EXCEEDED`, () => {
      assert.equal(decide(make(5_000_000n)).outcome, 'hold');
      const d = decide(make(5_000_001n));
      assert.equal(d.outcome, 'deny');
      assert.equal(d.code, 'LIMIT_EXCEEDED');
      assert.equal(d.decidingRule, 'btc-limits');
      assert.match(d.reason, /max_per_tx of rule btc-limits \(5,000,000 sat\)/);
    });
  }

  test('the 11th transaction in a rolling hour is denied; Bitcoin and Lightning share the count', () => {
    const ten = Array.from({ length: 10 }, (_, i) =>
      entry(500n, t - (i + 1) * 5 * 60_000, i % 2 === 0 ? {} : { protocol: 'lightning', action: 'pay' }),
    );
    assert.equal(decide(btcIntent(500n), ten.slice(0, 9)).outcome, 'allow');
    const d = decide(btcIntent(500n), ten);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.decidingRule, 'btc-limits');
    const count = d.trail[0]?.limits.find((l) => l.measure === 'count');
    assert.deepEqual([count?.limit, count?.used, count?.cap], ['1h', 10n, 10n]);
    // The oldest of the ten (50 minutes ago) ages out in 10 minutes.
    assert.equal(count?.freesAt, '2026-01-01T12:10:00.000Z');
    // Held payments count too.
    assert.equal(decide(btcIntent(50_000n), ten).code, 'LIMIT_EXCEEDED');
  });

  test('100,000 sat per rolling hour for payments up to 100,000 sat', () => {
    const used = [entry(99_500n, t - 30 * 60_000)];
    assert.equal(decide(btcIntent(500n), used).outcome, 'allow');
    const d = decide(btcIntent(501n), used);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.decidingRule, 'btc-small');
    assert.equal(decide(btcIntent(1000n), used).decidingRule, 'btc-medium');
    // A large payment waits 24 hours anyway; the hourly value cap is not its limit.
    assert.equal(decide(btcIntent(200_000n), used).outcome, 'hold');
  });

  test('10,000,000 sat per rolling 24 hours', () => {
    const earlier = [entry(5_000_000n, t - 20 * HOUR), entry(4_000_000n, t - 10 * HOUR)];
    assert.equal(decide(btcIntent(1_000_000n), earlier).outcome, 'hold');
    const d = decide(btcIntent(1_000_001n), earlier);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    const day = d.trail[0]?.limits.find((l) => l.limit === '24h');
    assert.equal(day?.freesAt, '2026-01-01T16:00:00.000Z'); // the 5,000,000 from 20 h ago leaves first
  });
});

describe('guidelines-default: Nostr', () => {
  test('kinds 0, 3, 10002, 27235 and 9734 are held for 1 approval; kind 1 is allowed', () => {
    for (const kind of [0, 3, 10002, 27235, 9734]) {
      const d = decide(nostrIntent(kind));
      assert.equal(d.outcome, 'hold', `kind ${kind}`);
      assert.equal(d.decidingRule, 'nostr-sensitive');
      assert.deepEqual([d.hold?.approvals, d.hold?.delaySeconds], [1, 0]);
    }
    for (const kind of [1, 7, 30023])
      assert.equal(decide(nostrIntent(kind)).outcome, 'allow', `kind ${kind}`);
  });

  test('at most 100 signatures per rolling hour', () => {
    const sig = (i: number): LedgerEntry =>
      entry(0n, t - i * 1000, {
        protocol: 'nostr',
        action: 'sign_event',
        asset: 'nostr:event',
        destination: null,
        kind: 1,
      });
    const hundred = Array.from({ length: 100 }, (_, i) => sig(i + 1));
    assert.equal(decide(nostrIntent(1), hundred.slice(1)).outcome, 'allow');
    assert.equal(decide(nostrIntent(1), hundred).code, 'LIMIT_EXCEEDED');
  });
});

describe('guidelines-default: EVM', () => {
  const GWEI = 1_000_000_000n;
  const ETH = 10n ** 18n;

  test('native sends on the allowed chains; a new destination is held, a known one allowed', () => {
    for (const chainId of [42161, 1, 10, 8453]) {
      assert.equal(
        decide(evmIntent(ETH / 100n, { chainId }), [], [EVM_ADDR]).outcome,
        'allow',
        `chain ${chainId}`,
      );
      const first = decide(evmIntent(ETH / 100n, { chainId }));
      assert.equal(first.outcome, 'hold');
      assert.deepEqual(first.hold?.reasons, ['first payment to this destination']);
    }
  });

  test('other chains, tokens and contract calls are denied by default', () => {
    assert.equal(decide(evmIntent(1n, { chainId: 137 }), [], [EVM_ADDR]).code, 'NO_MATCHING_RULE');
    const token = `0x${'12'.repeat(20)}`;
    assert.equal(decide(evmIntent(1n, { contract: token }), [], [EVM_ADDR]).code, 'NO_MATCHING_RULE');
    assert.equal(
      decide(evmIntent(0n, { contract: token, fn: '0xa9059cbb' }), [], [EVM_ADDR]).code,
      'NO_MATCHING_RULE',
    );
  });

  test('per-transaction cap 0.05 ETH, 0.2 ETH per 24 hours, max fee per gas 200 gwei', () => {
    assert.equal(decide(evmIntent(ETH / 20n), [], [EVM_ADDR]).outcome, 'allow');
    assert.equal(decide(evmIntent(ETH / 20n + 1n), [], [EVM_ADDR]).code, 'LIMIT_EXCEEDED');
    const spent: LedgerEntry[] = [0, 1, 2, 3].map((i) => ({
      ...entry(ETH / 20n, t - (i + 1) * HOUR, { destination: EVM_ADDR }),
      protocol: 'evm',
      asset: 'evm:1',
      chainId: 1,
    }));
    assert.equal(decide(evmIntent(1n), spent, [EVM_ADDR]).code, 'LIMIT_EXCEEDED');
    assert.equal(decide(evmIntent(1n, { chainId: 10 }), spent, [EVM_ADDR]).outcome, 'allow', 'per chain');
    assert.equal(decide(evmIntent(1n, { maxFeePerGas: 200n * GWEI }), [], [EVM_ADDR]).outcome, 'allow');
    assert.equal(
      decide(evmIntent(1n, { maxFeePerGas: 200n * GWEI + 1n }), [], [EVM_ADDR]).code,
      'LIMIT_EXCEEDED',
    );
  });
});

describe('guidelines-default with the real risk catalog', () => {
  test('its tolerance lets ordinary requests through', () => {
    const withRealRisk = (intent: Intent, known: string[] = []) =>
      evaluate(
        intent,
        assessRisk(intent, { tolerance: template.risk.tolerance }),
        snapshot([], known),
        template,
        NOW,
      );
    assert.equal(withRealRisk(btcIntent(999n, [BTC_ADDR])).outcome, 'allow');
    assert.equal(withRealRisk(lnIntent(999n)).outcome, 'allow');
    assert.equal(withRealRisk(nostrIntent(1)).outcome, 'allow');
    assert.equal(withRealRisk(nostrIntent(0)).outcome, 'hold');
    assert.equal(withRealRisk(evmIntent(10n ** 15n), [EVM_ADDR]).outcome, 'allow');
  });
});
