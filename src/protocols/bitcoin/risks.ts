/**
 * Bitcoin's risk catalog rows (guideline 003: its rows of the category tables and the Bitcoin risk
 * matrix), its monitor signals, how its amounts are priced, and its safer alternative. Numbers and
 * the reading of the guideline's words: src/risk/catalog.ts; the matrix's "Very rare" (reorg at 6
 * confirmations) is read as 1, the scale having nothing below Rare. Its rows apply to `bitcoin`
 * `send`; a wrong payee, an overpaid fee and a reused address apply to `sign_psbt` too. The matrix
 * rows apply on the facts of the request (below), not to every send alike.
 */
import {
  AMOUNT,
  type AmountScale,
  type CatalogEntry,
  type Condition,
  DESTINATION,
  HIGH_FEES,
  type Operation,
  PAID_BEFORE,
  type ProtocolRisks,
  RECENT_FAILURES,
  type SignalRule,
} from '../../risk/index.ts';

const PROTOCOL = 'bitcoin';

/** Amounts are sat: > 10,000,000 sat (0.1 BTC) +1 · > 100,000,000 sat (1 BTC) +2, whatever the asset. */
export const SAT_THRESHOLDS = { plusOne: 10_000_000n, plusTwo: 100_000_000n } as const;
export const SAT_SCALE: AmountScale = {
  unit: 'sat',
  ...SAT_THRESHOLDS,
  oneLabel: '0.1 BTC',
  twoLabel: '1 BTC',
};

/** On-chain payments below this many sat are better made over Lightning (guideline 003). */
export const ONCHAIN_MIN_SAT = 10_000n;

/**
 * `mempoolCongested`: the guideline's alert at more than 100,000 mempool transactions.
 * `spendsUnconfirmed` (a condition, not a bump): the bitcoin backend's coin selection spends
 * unconfirmed (0-conf) outputs; it makes `btc.double-spend-0conf` apply.
 */
export const MEMPOOL_CONGESTED: SignalRule = {
  signal: 'mempoolCongested',
  tiers: [{ test: { type: 'true' }, steps: 1, reason: 'monitor: mempool congested, likelihood +1' }],
};
export const SPENDS_UNCONFIRMED = 'spendsUnconfirmed';

/*
 * The facts a Bitcoin intent carries (its `signals`: fee-environment.ts, wallet/signals.ts), and
 * the one the gateway adds (PAID_BEFORE). Rows that applied to every send before these facts were
 * known go on applying when one is unknown (`whenUnknown`); rows that never did, do not.
 *   minCoinDepth     the least confirmations of the coins a send spends (reorg rows: below 2, 6)
 *   smallCoins       the wallet's coins worth less than spending them costs at 100 sat/vB (dust)
 *   paysOwnAddress   a destination is an address Warden handed out to the identity (reuse)
 *   highFees         the node's next-block estimate is above 100 sat/vB (risk/signals.ts)
 *   mempoolCongested more than 100,000 transactions in the node's mempool
 */
export const MIN_COIN_DEPTH = 'minCoinDepth';
export const SMALL_COINS = 'smallCoins';
export const PAYS_OWN_ADDRESS = 'paysOwnAddress';

/** Spends coins fewer than `depth` blocks deep (or of a depth not known). */
const shallowerThan = (depth: number): Condition => ({
  type: 'signal',
  signal: MIN_COIN_DEPTH,
  test: { type: 'below', than: depth },
  whenUnknown: true,
});

const SEND: Operation = { protocol: PROTOCOL, actions: ['send'] };
/** A signed PSBT moves money once anyone broadcasts it: a wrong payee and an overpaid fee apply. */
const SEND_OR_SIGN_PSBT: Operation = { protocol: PROTOCOL, actions: ['send', 'sign_psbt'] };
const PAYMENT_ACTIONS = ['send', 'sign_psbt'] as const;
/**
 * A payment to a destination used before: one the identity paid before, or one of its own
 * addresses. A send is assumed to when its address book was not read (the row applied to every
 * send before the facts were known); a PSBT signature only on the facts.
 */
const REUSE: readonly Operation[] = [
  // A send always has a destination.
  {
    protocol: PROTOCOL,
    actions: ['send'],
    when: [{ type: 'signal', signal: PAYS_OWN_ADDRESS, whenUnknown: true }],
  },
  {
    protocol: PROTOCOL,
    actions: ['sign_psbt'],
    when: [DESTINATION, { type: 'signal', signal: PAYS_OWN_ADDRESS }],
  },
  {
    protocol: PROTOCOL,
    actions: PAYMENT_ACTIONS,
    when: [DESTINATION, { type: 'signal', signal: PAID_BEFORE }],
  },
];

export const BITCOIN_ROWS: readonly CatalogEntry[] = [
  // ── Financial (guideline table 1) ───────────────────────────────────────────────────────────────
  {
    id: 'btc.wrong-address',
    name: 'Transaction to wrong address',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 4, // Critical
    likelihood: 1, // Low
    mitigation:
      'Verify the address via multiple sources; allowlist destinations; send a small test payment first',
    source: 'guideline:financial',
    appliesTo: [{ protocol: PROTOCOL, actions: ['send', 'sign_psbt'], when: [AMOUNT, DESTINATION] }],
  },
  {
    id: 'btc.fee-overpayment',
    name: 'Overpaying fees',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 2, // Medium
    mitigation:
      'Cap the fee rate and the total fee; estimate from the current mempool; bump with RBF instead of overbidding',
    source: 'guideline:financial',
    appliesTo: [SEND_OR_SIGN_PSBT],
    raisedBy: [HIGH_FEES, MEMPOOL_CONGESTED],
  },

  // ── Operational (guideline table 2) ─────────────────────────────────────────────────────────────
  {
    id: 'btc.node-sync-failure',
    name: 'Node sync failure',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 1, // Low
    mitigation: 'Check the node is synced before building or broadcasting; keep a fallback backend',
    source: 'guideline:operational',
    appliesTo: [SEND],
    raisedBy: [RECENT_FAILURES],
  },
  {
    id: 'btc.api-rate-limit',
    name: 'API rate limiting',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 1, // Low
    likelihood: 2, // Medium
    mitigation: 'Back off and retry; run an own node or keep a second provider',
    source: 'guideline:operational',
    appliesTo: [SEND],
    raisedBy: [RECENT_FAILURES],
  },

  // ── Security (guideline table 3) ────────────────────────────────────────────────────────────────
  {
    id: 'btc.seed-exposure',
    name: 'Seed phrase exposure',
    category: 'security',
    protocol: PROTOCOL,
    severity: 4, // Critical
    likelihood: 1, // Low
    mitigation: 'Keep the seed sealed in the vault; never export it; encrypted offline backup only',
    source: 'guideline:security',
    appliesTo: [{ protocol: PROTOCOL }],
  },

  // ── Bitcoin risk matrix ─────────────────────────────────────────────────────────────────────────
  {
    // Warden only sends; its own 0-conf exposure is spending unconfirmed outputs (if the parent is
    // double-spent, this payment vanishes). The bitcoin backend reports it as a signal.
    id: 'btc.double-spend-0conf',
    name: 'Double-spend (0-conf)',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 3, // Possible
    mitigation: 'Wait for confirmations',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [
      { protocol: PROTOCOL, actions: ['send'], when: [{ type: 'signal', signal: SPENDS_UNCONFIRMED }] },
    ],
    raisedBy: [MEMPOOL_CONGESTED],
  },
  {
    id: 'btc.fee-sniping',
    name: 'Fee sniping',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 1, // Rare
    mitigation: 'Use sequence locks',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [SEND],
  },
  {
    id: 'btc.address-reuse',
    name: 'Address reuse',
    category: 'privacy',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'HD wallet, new address per tx',
    source: 'guideline:bitcoin-matrix',
    appliesTo: REUSE,
  },
  {
    id: 'btc.utxo-dust',
    name: 'UTXO dust',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 1, // Low
    likelihood: 4, // Likely
    // The wallet holds coins worth less than spending them costs at a high fee rate.
    mitigation: 'Consolidate during low fees',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [
      {
        protocol: PROTOCOL,
        actions: ['send'],
        when: [
          { type: 'signal', signal: SMALL_COINS, test: { type: 'at-least', than: 1 }, whenUnknown: true },
        ],
      },
    ],
    raisedBy: [HIGH_FEES],
  },
  {
    id: 'btc.reorg-1conf',
    name: 'Reorg (1-conf)',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 1, // Rare
    // A send spending a coin 1 block deep: a reorg can take its parent, and the payment with it.
    mitigation: 'Wait for 2-3 confirmations',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [{ protocol: PROTOCOL, actions: ['send'], when: [AMOUNT, shallowerThan(2)] }],
  },
  {
    id: 'btc.reorg-6conf',
    name: 'Reorg (6-conf)',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 4, // Critical
    likelihood: 1, // Very rare → 1 (nothing below Rare on the scale)
    mitigation: 'Accept 6-conf as final',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [{ protocol: PROTOCOL, actions: ['send'], when: [AMOUNT, shallowerThan(6)] }],
  },
];

const LIGHTNING_FOR_SMALL = {
  protocol: 'lightning',
  reason: `amount below ${ONCHAIN_MIN_SAT} sat is too small for an efficient on-chain transaction: use Lightning for micropayments`,
};

export const BITCOIN_RISKS: ProtocolRisks = {
  protocol: PROTOCOL,
  rows: BITCOIN_ROWS,
  amountScale: () => SAT_SCALE,
  alternatives: [
    {
      operation: {
        protocol: PROTOCOL,
        actions: ['send'],
        when: [{ type: 'amount-below', than: ONCHAIN_MIN_SAT }],
      },
      alternative: LIGHTNING_FOR_SMALL,
    },
    {
      // A PSBT that pays nobody (a consolidation to the identity's own change) is no payment.
      operation: {
        protocol: PROTOCOL,
        actions: ['sign_psbt'],
        when: [AMOUNT, { type: 'amount-below', than: ONCHAIN_MIN_SAT }],
      },
      alternative: LIGHTNING_FOR_SMALL,
    },
  ],
};
