import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Intent } from '../../src/core/intent.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import { POLICY_LANGUAGE, POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { btcIntent, entry, lnIntent, NOW, risk, snapshot } from './helpers.ts';

const tiers = POLICY_LANGUAGE.parse(POLICY_TEMPLATES['bitcoin-tiers'] ?? '');
const t = NOW.getTime();

/** A PSBT signature spending from one kind of the identity's wallets (the `wallet` facet). */
const psbtFrom = (wallet: string, amount: bigint): Intent => ({
  ...btcIntent(amount),
  action: 'sign_psbt',
  facets: { network: 'regtest', sighash: 'all', amount_proof: 'full', wallet },
});
const decide = (intent: Intent, entries = [entry(0n, t - 1000)]) =>
  evaluate(intent, risk(2), snapshot(entries), tiers, NOW);

describe('bitcoin-tiers: the spending tiers over a hot account and a 2-of-3', () => {
  test('below 1,000 sat the single-key hot account signs alone; from 1,000 sat it is refused', () => {
    const small = decide(psbtFrom('single_key', 999n));
    assert.equal(small.outcome, 'allow');
    assert.equal(small.decidingRule, 'tier-limits');
    const larger = decide(psbtFrom('single_key', 1000n));
    assert.equal(larger.outcome, 'deny');
    assert.equal(larger.code, 'POLICY_DENIED');
    assert.equal(larger.decidingRule, 'tier-hot-only-small');
  });

  test('1,000 to 100,000 sat from the 2-of-3: Warden signs by policy; above, approval and 24 h', () => {
    for (const amount of [1000n, 100_000n])
      assert.equal(decide(psbtFrom('multisig', amount)).outcome, 'allow');
    const large = decide(psbtFrom('multisig', 100_001n));
    assert.equal(large.outcome, 'hold');
    assert.equal(large.decidingRule, 'tier-cold');
    assert.deepEqual([large.hold?.approvals, large.hold?.delaySeconds], [1, 86_400]);
  });

  test('the hot account loses at most 10,000 sat a day; the 2-of-3 tier 100,000 sat an hour', () => {
    const hotDay = Array.from({ length: 10 }, (_, i) =>
      entry(999n, t - (i + 1) * 2 * 3_600_000, { action: 'sign_psbt', facets: { wallet: 'single_key' } }),
    );
    const hot = decide(psbtFrom('single_key', 999n), hotDay);
    assert.equal(hot.code, 'LIMIT_EXCEEDED');
    assert.equal(hot.decidingRule, 'tier-hot');
    const hour = [entry(99_000n, t - 600_000, { action: 'sign_psbt', facets: { wallet: 'multisig' } })];
    const multisig = decide(psbtFrom('multisig', 2_000n), hour);
    assert.equal(multisig.code, 'LIMIT_EXCEEDED');
    assert.equal(multisig.decidingRule, 'tier-multisig');
  });

  test('one transaction from both kinds of wallet, a request without the facet, and other protocols', () => {
    assert.equal(decide(psbtFrom('mixed', 500n)).decidingRule, 'tier-one-wallet');
    assert.equal(decide(lnIntent(500n)).code, 'NO_MATCHING_RULE');
    // Above the per-transaction cap nothing passes, whichever the wallet.
    assert.equal(decide(psbtFrom('multisig', 5_000_001n)).code, 'LIMIT_EXCEEDED');
  });
});
