import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatUnits, groupDigits } from '../../src/policy/amount.ts';
import { explainPolicy } from '../../src/policy/explain.ts';
import { SENSITIVE_NOSTR_KINDS } from '../../src/protocols/nostr/kinds.ts';
import { POLICY_LANGUAGE, POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { policy } from './helpers.ts';

const parsePolicy = POLICY_LANGUAGE.parse;
const { feesSentence: FEES_SENTENCE, formatAmount } = POLICY_LANGUAGE.words;

describe('explainPolicy', () => {
  test('every template renders, one sentence per line, ending with the default deny', () => {
    for (const [name, text] of Object.entries(POLICY_TEMPLATES)) {
      const lines = explainPolicy(parsePolicy(text));
      assert.ok(lines.length >= 3, name);
      assert.equal(lines.at(-1), 'Anything no rule allows is denied.');
      for (const line of lines) {
        assert.match(line, /^[A-Z].*\.$/, `${name}: ${line}`);
        assert.ok(!line.includes('\n'), `${name}: one line`);
        assert.ok(!/undefined|null|NaN|\[object/.test(line), `${name}: ${line}`);
      }
    }
  });

  test('the guidelines template in words, with units', () => {
    const lines = explainPolicy(parsePolicy(POLICY_TEMPLATES['guidelines-default'] ?? ''));
    for (const expected of [
      'Rule btc-limits: at most 5,000,000 sat per transaction.',
      'Rule btc-limits: at most 10,000,000 sat per rolling 24 hours.',
      'Rule btc-limits: at most 10 transactions per rolling hour.',
      'Rule btc-small: at most 100,000 sat per rolling hour.',
      'Rule nostr-sign: at most 100 signatures per rolling hour.',
      'Rule evm-native: at most 0.05 ETH (50000000000000000 wei) per transaction.',
      'Rule evm-native: at most 0.2 ETH (200000000000000000 wei) per rolling 24 hours.',
      'Rule evm-native: the max fee per gas may be at most 200 gwei (200000000000 wei).',
      'Rule evm-native: a first payment to a destination never paid before is held until 1 operator approves.',
      'Requests whose risk score is above 12 (risk tolerance high) are denied.',
    ]) {
      assert.ok(lines.includes(expected), `missing: ${expected}\n${lines.join('\n')}`);
    }
    assert.ok(
      lines.some((l) =>
        l.startsWith(
          'Rule btc-small: Bitcoin requests and Lightning requests of asset btc of at most 999 sat are allowed',
        ),
      ),
    );
    assert.ok(
      lines.some(
        (l) =>
          l.startsWith('Rule btc-large:') &&
          l.includes('held until 1 operator approves and 24 hours have passed'),
      ),
    );
    const kinds = SENSITIVE_NOSTR_KINDS.map((k) => String(k.kind));
    const sensitive = `Rule nostr-sensitive: Nostr event signatures of kind ${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)} are held`;
    assert.ok(
      lines.some((l) => l.startsWith(sensitive)),
      sensitive,
    );
    // Fees are money: said once, right after how rules combine.
    assert.equal(lines[2], FEES_SENTENCE);
    assert.match(FEES_SENTENCE, /count fees/);
  });

  test('the fee sentence appears only when the policy has a value limit', () => {
    assert.ok(
      !explainPolicy(
        policy('rules:\n  - { id: n, effect: allow, limits: [{ window: 1h, max_count: 5 }] }\n'),
      ).includes(FEES_SENTENCE),
    );
    assert.ok(
      explainPolicy(policy('rules:\n  - { id: n, effect: allow, max_per_tx: 5 }\n')).includes(FEES_SENTENCE),
    );
    assert.ok(
      explainPolicy(
        policy('rules:\n  - { id: n, effect: allow, limits: [{ window: 1h, max_value: 5 }] }\n'),
      ).includes(FEES_SENTENCE),
    );
  });

  test('one sentence per rule and per limit; lists, risk, calendar windows, per destination', () => {
    const lines = explainPolicy(
      policy(`description: test policy.
destinations: { deny: ["bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"], allow: [] }
new_destination: hold
risk: { max_score: 9 }
rules:
  - id: small-sats
    match: { protocol: lightning, amount: { max: 999 } }
    effect: allow
    limits:
      - { window: day, max_value: 5000, max_count: 20, per_destination: true }
      - { window: week, max_count: 100 }
      - { window: month, max_value: 1000000 }
    allowlist: [a, b]
    denylist: [c]
    risk: { max_score: 4 }
  - id: eth
    match: { chain_id: 1, protocol: evm, asset: "evm:1" }
    effect: hold
    approvals: 2
    max_per_tx: "1000000000000000000"
    limits: [{ window: 24h, max_value: "1000000000000000000" }]
  - id: wait
    match: { asset: "evm:1:0x${'12'.repeat(20)}" }
    effect: hold
    delay: 7d
    max_per_tx: 5
  - { id: gas, match: { protocol: evm }, effect: allow, max_per_tx: 7000 }
  - { id: everything, effect: deny }
`),
    );
    assert.deepEqual(lines, [
      'Policy test: test policy.',
      'Rules are checked in order and every matching rule applies: a deny beats a hold, a hold beats an allow, and every limit of every matching rule must hold.',
      FEES_SENTENCE,
      'Never to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh, whatever the rules say.',
      'No destination may be paid at all.',
      'A first payment to a destination never paid before is held until 1 operator approves.',
      'Requests whose risk score is above 9 are denied (risk tolerance medium).',
      'Rule small-sats: Lightning requests of at most 999 sat are allowed.',
      'Rule small-sats: at most 20 transactions and 5,000 sat to each destination per calendar day (UTC).',
      'Rule small-sats: at most 100 transactions per calendar week (ISO week from Monday 00:00 UTC).',
      'Rule small-sats: at most 1,000,000 sat per calendar month (UTC).',
      'Rule small-sats: only to a or b.',
      'Rule small-sats: never to c.',
      'Rule small-sats: denied when the risk score is above 4.',
      'Rule eth: EVM requests of asset evm:1 on chain 1 (Ethereum) are held until 2 distinct operators approve.',
      'Rule eth: at most 1 ETH (1000000000000000000 wei) per transaction.',
      'Rule eth: at most 1 ETH (1000000000000000000 wei) per rolling 24 hours.',
      `Rule wait: All requests of asset evm:1:0x${'12'.repeat(20)} are held for 7 days, then released unless an operator vetoes them.`,
      `Rule wait: at most 5 base units of evm:1:0x${'12'.repeat(20)} per transaction.`,
      'Rule gas: EVM requests are allowed.',
      'Rule gas: at most 7,000 base units per transaction.',
      'Rule everything: All requests are denied.',
      'Anything no rule allows is denied.',
    ]);
  });
});

describe('amount rendering', () => {
  test('sat with thousands separators, ETH exact with wei, tokens and unknowns in base units', () => {
    assert.equal(groupDigits(0n), '0');
    assert.equal(groupDigits(999n), '999');
    assert.equal(groupDigits(1000n), '1,000');
    assert.equal(groupDigits(1234567n), '1,234,567');
    assert.equal(formatUnits(1n, 18), '0.000000000000000001');
    assert.equal(formatUnits(123_450_000_000_000_000_000n, 18), '123.45');
    assert.equal(formatAmount('btc', 5_000_000n), '5,000,000 sat');
    assert.equal(formatAmount('evm:42161', 10n ** 18n), '1 ETH (1000000000000000000 wei)');
    assert.equal(formatAmount('evm:137', 10n ** 18n), '1000000000000000000 wei');
    assert.equal(formatAmount('evm:1:0xabc', 7n), '7 base units of evm:1:0xabc');
    assert.equal(formatAmount(null, 1000n), '1,000 base units');
  });
});
