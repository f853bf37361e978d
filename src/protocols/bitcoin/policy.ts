/**
 * What policy knows of Bitcoin: the send action, amounts of asset `btc` in sat, and the rules for
 * `btc` in the ready-made policies. Those rules cover Lightning too (both pay in sat from the
 * same budget), so they are declared once, here. No facets yet.
 */
import { countedUnit, type ProtocolVocabulary, type TemplateFragments } from '../../policy/index.ts';

/** Shared with Lightning by id: a rule over both shows its amounts in sat. */
const SAT = countedUnit('sat');

export const BITCOIN_VOCABULARY: ProtocolVocabulary = Object.freeze({
  name: 'bitcoin',
  title: 'Bitcoin',
  actions: [{ name: 'send', noun: 'sends' }],
  countNoun: 'transactions',
  unitOf: (asset: string) => (asset === 'btc' ? SAT : null),
  unit: SAT,
  baseUnits: ['sat'],
  describe: (_intent, { amount, to }) => `sending ${amount} on Bitcoin${to}`,
} satisfies ProtocolVocabulary);

export const BITCOIN_TEMPLATE_RULES: TemplateFragments = Object.freeze({
  'guidelines-default': `  # Bitcoin and Lightning: asset btc, amounts in sat.
  - id: btc-limits
    description: every Bitcoin and Lightning payment counts against these caps
    match: { protocol: [bitcoin, lightning], asset: btc }
    effect: allow
    max_per_tx: 5000000 # 0.05 BTC per transaction
    limits:
      - { window: 24h, max_value: 10000000 } # 0.1 BTC per rolling 24 hours
      - { window: 1h, max_count: 10 } # 10 transactions per rolling hour
  - id: btc-small
    description: below 1,000 sat no approval is needed
    match: { protocol: [bitcoin, lightning], asset: btc, amount: { max: 999 } }
    effect: allow
    limits:
      # 100,000 sat per rolling hour for the payments that need no delay. Larger payments wait
      # 24 hours anyway and are bounded by the 24 h cap of btc-limits.
      - &btc-hourly-value { window: 1h, max_value: 100000 }
  - id: btc-medium
    description: 1,000 to 100,000 sat need an operator's approval
    match: { protocol: [bitcoin, lightning], asset: btc, amount: { min: 1000, max: 100000 } }
    effect: hold
    approvals: 1
    limits: [*btc-hourly-value]
  - id: btc-large
    description: above 100,000 sat need an operator's approval and a 24 hour delay
    match: { protocol: [bitcoin, lightning], asset: btc, amount: { min: 100001 } }
    effect: hold
    approvals: 1
    delay: 24h
`,
});
