/**
 * What policy knows of Bitcoin: the send and sign_psbt actions, amounts of asset `btc` in sat, the
 * facets of a PSBT signature (`network`, `sighash`, `amount_proof`), the fee caps (absolute, and
 * relative to the node's estimate and to the amount: fee-environment.ts sets what they read), and
 * the rules for `btc` in the ready-made policies. Those rules cover Lightning too (both pay in sat
 * from the same budget), so they are declared once, here.
 */
import {
  countedUnit,
  groupDigits,
  joinOr,
  oneOfItem,
  type ProtocolVocabulary,
  type TemplateFragments,
} from '../../policy/index.ts';
import { BITCOIN_NETWORK_NAMES } from './networks.ts';
import { OPT_IN_SIGHASH, SIGHASH_FACET_VALUES } from './sighash.ts';
import { formatFeeRate } from './weight.ts';

/** Shared with Lightning by id: a rule over both shows its amounts in sat. */
const SAT = countedUnit('sat');
/** Basis points as a rule's relative cap shows them: "150 bps (1.50%)". */
const formatBps = (bps: bigint) =>
  `${groupDigits(bps)} bps (${bps / 100n}.${(bps % 100n).toString().padStart(2, '0')}%)`;

const WALLET_KINDS = ['single_key', 'multisig', 'mixed'] as const;
const WALLET_WORDS: Record<string, string> = {
  single_key: 'single-key account',
  multisig: '2-of-3 wallet',
  mixed: 'single-key account and 2-of-3 wallet together',
};

export const BITCOIN_VOCABULARY: ProtocolVocabulary = Object.freeze({
  name: 'bitcoin',
  title: 'Bitcoin',
  actions: [
    { name: 'send', noun: 'sends' },
    { name: 'sign_psbt', noun: 'PSBT signatures' },
    { name: 'new_address', noun: 'new addresses' },
    { name: 'balance', noun: 'balance reads' },
  ],
  countNoun: 'transactions',
  unitOf: (asset: string) => (asset === 'btc' ? SAT : null),
  unit: SAT,
  baseUnits: ['sat'],
  facets: [
    {
      name: 'network',
      type: 'text',
      item: oneOfItem(BITCOIN_NETWORK_NAMES as [string, ...string[]], 'Bitcoin network'),
      plural: 'Bitcoin networks',
      label: 'Bitcoin network',
      missing: 'request is on no Bitcoin network',
      words: (networks) => `on Bitcoin ${joinOr(networks.map(String))}`,
    },
    {
      // The sighash of the inputs Warden signs: anything but DEFAULT/ALL lets others change the
      // transaction after it is signed, so only a rule naming the type allows it.
      name: 'sighash',
      type: 'text',
      item: oneOfItem(SIGHASH_FACET_VALUES as [string, ...string[]], 'sighash'),
      plural: 'sighash types',
      label: 'sighash',
      missing: 'request signs no Bitcoin input',
      words: (types) => `signed with sighash ${joinOr(types.map(String))}`,
      optIn: OPT_IN_SIGHASH,
    },
    {
      // How the input amounts were proven: `witness_utxo` means some segwit v0 amount was taken on
      // the PSBT's word (CVE-2020-14199), which only a rule naming it allows.
      name: 'amount_proof',
      type: 'text',
      item: oneOfItem(['full', 'witness_utxo'], 'amount proof'),
      plural: 'amount proofs',
      label: 'amount proof',
      missing: 'request spends no Bitcoin input',
      words: (proofs) => `with input amounts proven by ${joinOr(proofs.map(String))}`,
      optIn: ['witness_utxo'],
    },
    {
      // Which wallet the signed inputs spend from: the spending tiers give the single-key hot
      // account the smallest payments and the 2-of-3 the rest (the bitcoin-tiers template).
      name: 'wallet',
      type: 'text',
      item: oneOfItem(WALLET_KINDS, 'wallet kind'),
      plural: 'wallet kinds',
      label: 'wallet',
      missing: 'request spends from no wallet of the identity',
      words: (kinds) => `from the ${joinOr(kinds.map((k) => WALLET_WORDS[String(k)] ?? String(k)))}`,
    },
    {
      // A send paying a random amount the recipient accepts (send/amount-jitter.ts): only a rule
      // naming it allows it, so no policy jitters by accident.
      name: 'amount_jitter',
      type: 'text',
      item: oneOfItem(['none', 'jittered'], 'amount jitter'),
      plural: 'amount jitter kinds',
      label: 'amount jitter',
      missing: 'request is no Bitcoin send',
      words: (kinds) => (kinds.includes('jittered') ? 'paying a jittered amount' : 'paying the amount asked'),
      optIn: ['jittered'],
    },
  ],
  caps: [
    {
      // How far a jittered send's amount may be from the one asked, in sat. The draw stays within
      // the tightest value any rule sets; without this cap or the next, jitter is refused.
      name: 'max_amount_jitter',
      quantity: 'amount jitter',
      format: SAT.format,
      notApplicable: 'max_amount_jitter does not apply: not a jittered Bitcoin send',
      remedy: (cap) => `jitter the amount by at most ${cap}`,
    },
    {
      // The same in basis points of the amount asked (100 = 1%).
      name: 'max_amount_jitter_bps',
      quantity: 'amount jitter',
      format: SAT.format,
      notApplicable: 'max_amount_jitter_bps does not apply: not a jittered Bitcoin send',
      remedy: (cap) => `jitter the amount by at most ${cap}`,
      relative: {
        facet: 'max_amount_jitter',
        reference: { facet: 'requested_amount_sat' },
        scale: 10_000n,
        formatValue: formatBps,
        referenceWords: 'the amount asked',
        unmeasurable: 'the amount asked is unknown',
        unmeasurableRemedy: 'send a request whose amount is known',
      },
    },
    {
      // What the PSBT pays in fees (proven inputs less outputs), whatever it sends.
      name: 'max_fee',
      quantity: 'Bitcoin fee',
      format: SAT.format,
      notApplicable: 'max_fee does not apply: not a Bitcoin request with a proven fee',
      remedy: (cap) => `pay a fee of at most ${cap}`,
    },
    {
      // Rounded up, and over a size estimate that can only err low: never under the real rate.
      name: 'max_fee_rate',
      quantity: 'Bitcoin fee rate',
      format: (rate) => `${groupDigits(rate)} sat/vB`,
      notApplicable: 'max_fee_rate does not apply: not a Bitcoin request with a proven fee',
      remedy: (cap) => `pay a fee rate of at most ${cap}`,
    },
    {
      // A multiple of what the market asks now (integer percent: 200 = twice): the fee rate,
      // rounded up, against the node's next-block estimate. Without an estimate it refuses.
      name: 'max_fee_rate_estimate_pct',
      quantity: 'Bitcoin fee rate',
      format: (rate) => `${formatFeeRate(rate)} sat/vB`,
      notApplicable: 'max_fee_rate_estimate_pct does not apply: not a Bitcoin request with a proven fee',
      remedy: (cap) => `pay a fee rate of at most ${cap}`,
      relative: {
        facet: 'fee_rate_msat_vb',
        reference: { facet: 'fee_estimate_msat_vb' },
        scale: 100n,
        formatValue: (pct) => `${groupDigits(pct)}%`,
        referenceWords: "the node's next-block fee estimate",
        unmeasurable:
          'no fee estimate: no Bitcoin node is configured for the network, it did not answer, or it has none',
        unmeasurableRemedy:
          'retry once the node has a fee estimate (protocols.bitcoin.nodes must have one for the network)',
      },
    },
    {
      // A share of the amount (basis points: 100 = 1%): what the fee may take of a payment.
      name: 'max_fee_share_bps',
      quantity: 'Bitcoin fee',
      format: SAT.format,
      notApplicable: 'max_fee_share_bps does not apply: not a Bitcoin request with a proven fee',
      remedy: (cap) => `pay a fee of at most ${cap}, or pay a larger amount`,
      relative: {
        facet: 'max_fee',
        reference: 'amount',
        scale: 10_000n,
        formatValue: formatBps,
        referenceWords: 'the amount',
        unmeasurable: 'the amount is unknown',
        unmeasurableRemedy: 'send a request whose amount is known',
      },
    },
  ],
  describe: (intent, { amount, to }) =>
    intent.action === 'sign_psbt'
      ? `signing a PSBT that sends ${amount} on Bitcoin${to}`
      : `sending ${amount} on Bitcoin${to}`,
} satisfies ProtocolVocabulary);

/** The rule both templates give the wallet reads: they move nothing (assets btc:address, btc:balance). */
const walletReads = (id: string) => `  - id: ${id}
    description: fresh receive addresses and balance reads move nothing; a bound on how often
    match: { protocol: bitcoin, action: [new_address, balance] }
    effect: allow
    limits:
      - { window: 1h, max_count: 120 }
`;

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
${walletReads('btc-wallet-reads')}`,
  'bitcoin-tiers': `  # A 2-of-3 cannot spend with one key, so the smallest tier is the identity's single-key hot
  # account (BIP-84/86), where Warden's signature is the only one; the 2-of-3 (agent hot key,
  # Warden, cold key) carries the rest, Warden's signature given by these rules.
  - id: tier-limits
    description: every Bitcoin transaction counts against these caps
    match: { protocol: bitcoin, asset: btc }
    effect: allow
    max_per_tx: 5000000 # 0.05 BTC per transaction
    limits:
      - { window: 24h, max_value: 10000000 } # 0.1 BTC per rolling 24 hours
      - { window: 1h, max_count: 10 } # 10 transactions per rolling hour
  - id: tier-hot
    description: below 1,000 sat from the single-key hot account, without approval
    match: { protocol: bitcoin, asset: btc, wallet: single_key, amount: { max: 999 } }
    effect: allow
    limits:
      - { window: 24h, max_value: 10000 } # what the hot account may lose in a day
  - id: tier-hot-only-small
    description: the single-key hot account never pays 1,000 sat or more; the 2-of-3 does
    match: { protocol: bitcoin, wallet: single_key, amount: { min: 1000 } }
    effect: deny
  - id: tier-one-wallet
    description: one transaction spends from one kind of wallet
    match: { protocol: bitcoin, wallet: mixed }
    effect: deny
  - id: tier-multisig
    description: 1,000 to 100,000 sat from the 2-of-3, Warden signing by policy
    match: { protocol: bitcoin, asset: btc, wallet: multisig, amount: { min: 1000, max: 100000 } }
    effect: allow
    limits:
      - { window: 1h, max_value: 100000 } # 100,000 sat per rolling hour
  - id: tier-cold
    description: above 100,000 sat from the 2-of-3, only after an operator's approval and a 24 hour delay
    match: { protocol: bitcoin, asset: btc, wallet: multisig, amount: { min: 100001 } }
    effect: hold
    approvals: 1
    delay: 24h
${walletReads('tier-wallet-reads')}`,
});
