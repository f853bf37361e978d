import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Decision } from '../../src/core/decision.ts';
import type { Intent } from '../../src/core/intent.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import type { LedgerEntry } from '../../src/policy/snapshot.ts';
import { SENSITIVE_NOSTR_KINDS } from '../../src/protocols/nostr/kinds.ts';
import { POLICY_LANGUAGE, POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { RISK_CATALOG } from '../../src/protocols/risk-catalog.ts';
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

const parsePolicy = POLICY_LANGUAGE.parse;
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
  test('every sensitive kind of the one list is held for 1 approval, in both Nostr templates', () => {
    const nostrOnly = parsePolicy(POLICY_TEMPLATES['nostr-only'] ?? '');
    for (const p of [template, nostrOnly]) {
      for (const { kind } of SENSITIVE_NOSTR_KINDS) {
        const intent = nostrIntent(kind);
        // With the real risk catalog too: these kinds score high, but the template holds them.
        for (const r of [
          risk(8),
          assessRisk(intent, { tolerance: p.risk.tolerance, catalog: RISK_CATALOG }),
        ]) {
          const d = evaluate(intent, r, snapshot(), p, NOW);
          assert.equal(d.outcome, 'hold', `${p.name}: kind ${kind}`);
          assert.equal(d.decidingRule, 'nostr-sensitive');
          assert.deepEqual([d.hold?.approvals, d.hold?.delaySeconds], [1, 0]);
        }
      }
    }
  });

  test('the list holds the whole class: logins, uploads, money and message routing, identity', () => {
    const listed = new Set(SENSITIVE_NOSTR_KINDS.map((k) => k.kind));
    // NIP-01/02/09/62 identity, NIP-65/17 relays, NIP-42/98/46 logins, Blossom and NIP-96 uploads,
    // NIP-57/61/60/47/75 money, NIP-EE key packages.
    for (const kind of [
      0, 3, 5, 62, 10002, 10050, 22242, 27235, 24133, 24242, 10063, 10096, 9734, 9735, 9321, 10019, 17375,
      23194, 9041, 443, 10051,
    ]) {
      assert.ok(listed.has(kind), `kind ${kind}`);
    }
    assert.equal(listed.size, SENSITIVE_NOSTR_KINDS.length, 'no kind listed twice');
    for (const k of SENSITIVE_NOSTR_KINDS) assert.ok(k.reason.length > 20 && /^(NIP|BUD)-/.test(k.nip));
  });

  test('docs/policy.md lists every sensitive kind with its spec', () => {
    const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
    for (const k of SENSITIVE_NOSTR_KINDS)
      assert.ok(doc.includes(`| ${k.kind} | ${k.nip} | ${k.name} |`), `kind ${k.kind}`);
  });

  test('a plain note, a reaction, an article and a DM are signed without approval', () => {
    for (const kind of [1, 7, 30023, 4, 14, 1111])
      assert.equal(decide(nostrIntent(kind)).outcome, 'allow', `kind ${kind}`);
  });

  test('at most 100 signatures per rolling hour', () => {
    const sig = (i: number): LedgerEntry =>
      entry(0n, t - i * 1000, {
        protocol: 'nostr',
        action: 'sign_event',
        asset: 'nostr:event',
        destination: null,
        facets: { kind: 1 },
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
      facets: { chain_id: 1 },
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

describe('guidelines-default: fees are money', () => {
  const GWEI = 1_000_000_000n;
  const ETH = 10n ** 18n;
  const FEE = 21_000n * 200n * GWEI; // the worst case at the 200 gwei cap: 0.0042 ETH
  const send = (amount: bigint): Intent => ({
    ...evmIntent(amount, { maxFeePerGas: 200n * GWEI }),
    maxFee: FEE,
  });
  const booked = (i: number, fee = FEE): LedgerEntry => ({
    ...entry(1n, t - (i + 1) * 20 * 60_000, { destination: EVM_ADDR }), // 3 an hour: counts never decide
    protocol: 'evm',
    asset: 'evm:1',
    facets: { chain_id: 1 },
    fee,
  });

  test('max_per_tx counts the worst-case fee: 0.05 ETH less the fee passes, 1 wei more does not', () => {
    assert.equal(decide(send(ETH / 20n - FEE), [], [EVM_ADDR]).outcome, 'allow');
    const d = decide(send(ETH / 20n - FEE + 1n), [], [EVM_ADDR]);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.match(d.reason, /with up to 0\.0042 ETH \(4200000000000000 wei\) in fees is above the max_per_tx/);
    assert.match(
      d.remedy ?? '',
      /lower the amount to at most 0\.0458 ETH \(45800000000000000 wei\) \(less its fees/,
    );
  });

  test('1 wei sends at 200 gwei: the 24 h cap is reached by their fees after 47', () => {
    const ledger = Array.from({ length: 46 }, (_, i) => booked(i));
    assert.equal(decide(send(1n), ledger, [EVM_ADDR]).outcome, 'allow');
    const full = [...ledger, booked(46)];
    const d = decide(send(1n), full, [EVM_ADDR]);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    const day = d.trail.find((r) => r.rule === 'evm-native')?.limits.find((l) => l.limit === '24h');
    assert.deepEqual([day?.used, day?.request], [47n * (1n + FEE), 1n + FEE]);
    assert.match(d.reason, /fees included/);
    // Once the fees paid are known (far less than the worst case), the room is back.
    const paid = full.map((e) => ({ ...e, fee: 21_000n * GWEI }));
    assert.equal(decide(send(1n), paid, [EVM_ADDR]).outcome, 'allow');
  });

  test('reserved and unknown entries count their fee too; a corrupt negative fee is never room', () => {
    const open = Array.from({ length: 47 }, (_, i) => ({ ...booked(i), status: 'unknown' as const }));
    assert.equal(decide(send(1n), open, [EVM_ADDR]).code, 'LIMIT_EXCEEDED');
    const corrupt = [booked(0, -(10n ** 18n)), ...Array.from({ length: 46 }, (_, i) => booked(i + 1))];
    assert.equal(decide(send(1n), corrupt, [EVM_ADDR]).outcome, 'allow', '46 × (1 + fee) + 1 wei + fee fits');
    assert.equal(decide(send(1n), [...corrupt, booked(47)], [EVM_ADDR]).code, 'LIMIT_EXCEEDED');
  });

  test('Nostr pays no fee: nothing changes for signatures', () => {
    assert.equal(nostrIntent(1).maxFee, 0n);
    assert.equal(decide(nostrIntent(1)).outcome, 'allow');
  });
});

describe('guidelines-default with the real risk catalog', () => {
  test('its tolerance lets ordinary requests through', () => {
    const withRealRisk = (intent: Intent, known: string[] = []) =>
      evaluate(
        intent,
        assessRisk(intent, { tolerance: template.risk.tolerance, catalog: RISK_CATALOG }),
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
