/**
 * Lightning's risk catalog rows (guideline 003: its rows of the category tables and the Lightning
 * risk matrix), its monitor signal, how its amounts are priced, and its safer alternative. Numbers
 * and the reading of the guideline’s words: src/risk/catalog.ts. Its rows apply to `lightning` `pay`
 * (`lightning.pay_invoice`).
 *
 * Rows that appear in two tables with different numbers keep both facts, under distinct ids:
 *   force close     financial `ln.force-close-loss` (High/Low = 3)  · matrix `ln.force-close-high-fees` (High/Unlikely = 6)
 *   stuck HTLCs     financial `ln.stuck-htlcs.financial` (Medium/Medium = 4) · matrix `ln.stuck-htlc.matrix` (Medium/Possible = 6)
 *   channel balance operational `ln.channel-depletion` (High/Medium = 6) · matrix `ln.channel-exhaustion` (Medium/Possible = 6)
 *   peer down       operational `ln.node-offline` (High/Low = 3) · matrix `ln.counterparty-offline` (Medium/Possible = 6)
 *   hot wallet      security table Critical/Medium and the guideline's sketch CRITICAL/UNLIKELY agree (4 × 2 = 8): one row.
 * The guideline's sketch also lists `channel_force_close` (Medium/Possible, "closed by counterparty during a
 * low fee period"); it is sketch code, not a table row, and is covered by the two force-close rows above.
 */
import {
  AMOUNT,
  type AmountScale,
  type CatalogEntry,
  HIGH_FEES,
  type Operation,
  type ProtocolRisks,
  RECENT_FAILURES,
  type SignalRule,
} from '../../risk/index.ts';

const PROTOCOL = 'lightning';

/**
 * Amounts are sat, as for Bitcoin (Intent asset `btc`), with the same thresholds:
 * > 10,000,000 sat (0.1 BTC) +1 · > 100,000,000 sat (1 BTC) +2.
 */
export const SAT_SCALE: AmountScale = {
  unit: 'sat',
  plusOne: 10_000_000n,
  plusTwo: 100_000_000n,
  oneLabel: '0.1 BTC',
  twoLabel: '1 BTC',
};

/** Lightning payments above this many sat are better settled on-chain (guideline 003). */
export const LIGHTNING_MAX_SAT = 10_000_000n;

/**
 * `channelLocalRatio`: local balance / capacity of the channels a payment can use (0..1, whole
 * percent rounded down: monitor/classify.ts), below the guideline's alert (< 0.1). Its "channel
 * full" alert (> 0.9) only matters for receiving: ignored here, shown by the monitor.
 */
export const DEPLETED_LOCAL_RATIO = 0.1;
export const CHANNEL_DEPLETED: SignalRule = {
  signal: 'channelLocalRatio',
  tiers: [
    {
      test: { type: 'below', than: DEPLETED_LOCAL_RATIO },
      steps: 1,
      reason: `monitor: channel local balance {value} (< ${DEPLETED_LOCAL_RATIO}), likelihood +1`,
    },
  ],
};

/**
 * The channel monitor's other two facts (monitor/classify.ts `paymentSignals`): the node did not
 * answer its last reading (`nodeOffline`), a channel's peer is not connected (`counterpartyOffline`).
 */
export const NODE_OFFLINE: SignalRule = {
  signal: 'nodeOffline',
  tiers: [
    {
      test: { type: 'true' },
      steps: 1,
      reason: 'monitor: the Lightning node was unreachable, likelihood +1',
    },
  ],
};
export const COUNTERPARTY_OFFLINE: SignalRule = {
  signal: 'counterpartyOffline',
  tiers: [{ test: { type: 'true' }, steps: 1, reason: 'monitor: a channel peer is offline, likelihood +1' }],
};

const PAY: Operation = { protocol: PROTOCOL, actions: ['pay'] };
const PAYMENT: Operation = { protocol: PROTOCOL, actions: ['pay'], when: [AMOUNT] };

export const LIGHTNING_ROWS: readonly CatalogEntry[] = [
  // ── Financial (guideline table 1) ───────────────────────────────────────────────────────────────
  {
    id: 'ln.force-close-loss',
    name: 'Channel force-close loss',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 1, // Low
    mitigation: 'Monitor channels, maintain a watchtower',
    source: 'guideline:financial',
    appliesTo: [PAY],
    raisedBy: [HIGH_FEES],
  },
  {
    id: 'ln.stuck-htlcs.financial',
    name: 'Stuck HTLCs',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 2, // Medium
    mitigation: 'Keep in-flight amounts reserved until resolved; bound CLTV expiry and payment timeouts',
    source: 'guideline:financial',
    appliesTo: [PAYMENT],
    raisedBy: [RECENT_FAILURES],
  },

  // ── Operational (guideline table 2) ─────────────────────────────────────────────────────────────
  {
    id: 'ln.channel-depletion',
    name: 'Channel depletion',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 2, // Medium
    mitigation: 'Monitor local balance (alert below 10%); rebalance or receive before paying',
    source: 'guideline:operational',
    appliesTo: [PAYMENT],
    raisedBy: [CHANNEL_DEPLETED],
  },
  {
    id: 'ln.node-offline',
    name: 'Node offline',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 1, // Low
    mitigation: 'Monitor node health; keep a backup node; alert the operator',
    source: 'guideline:operational',
    appliesTo: [PAY],
    raisedBy: [NODE_OFFLINE, RECENT_FAILURES],
  },

  // ── Security (guideline table 3) ────────────────────────────────────────────────────────────────
  {
    id: 'ln.hot-wallet-compromise',
    name: 'Hot wallet compromise',
    category: 'security',
    protocol: PROTOCOL,
    severity: 4, // Critical
    likelihood: 2, // Medium (the guideline's sketch: UNLIKELY)
    mitigation: 'Limit hot wallet balance, use hardware signing',
    source: 'guideline:security',
    appliesTo: [{ protocol: PROTOCOL }],
  },

  // ── Lightning risk matrix ───────────────────────────────────────────────────────────────────────
  {
    id: 'ln.counterparty-offline',
    name: 'Counterparty offline',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Multiple channels',
    source: 'guideline:lightning-matrix',
    appliesTo: [PAY],
    raisedBy: [COUNTERPARTY_OFFLINE, RECENT_FAILURES],
  },
  {
    id: 'ln.force-close-high-fees',
    name: 'Force close (high fees)',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 2, // Unlikely
    mitigation: 'Anchor outputs, watchtower',
    source: 'guideline:lightning-matrix',
    appliesTo: [PAY],
    raisedBy: [HIGH_FEES],
  },
  {
    id: 'ln.stuck-htlc.matrix',
    name: 'Stuck HTLC',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Timeout handling',
    source: 'guideline:lightning-matrix',
    appliesTo: [PAYMENT],
    raisedBy: [RECENT_FAILURES],
  },
  {
    id: 'ln.routing-failure',
    name: 'Routing failure',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 1, // Low
    likelihood: 4, // Likely
    mitigation: 'MPP, fallback to Bitcoin',
    source: 'guideline:lightning-matrix',
    appliesTo: [PAYMENT],
    raisedBy: [CHANNEL_DEPLETED, RECENT_FAILURES],
  },
  {
    id: 'ln.channel-exhaustion',
    name: 'Channel exhaustion',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Monitor, rebalance',
    source: 'guideline:lightning-matrix',
    appliesTo: [PAYMENT],
    raisedBy: [CHANNEL_DEPLETED],
  },
  {
    id: 'ln.payment-tracking',
    name: 'Payment tracking',
    category: 'privacy',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 2, // Unlikely
    mitigation: 'Multiple nodes, Tor',
    source: 'guideline:lightning-matrix',
    appliesTo: [PAY],
  },
];

export const LIGHTNING_RISKS: ProtocolRisks = {
  protocol: PROTOCOL,
  rows: LIGHTNING_ROWS,
  amountScale: () => SAT_SCALE,
  alternatives: [
    {
      operation: {
        protocol: PROTOCOL,
        actions: ['pay'],
        when: [{ type: 'amount-above', than: LIGHTNING_MAX_SAT }],
      },
      alternative: {
        protocol: 'bitcoin',
        reason: `amount above ${LIGHTNING_MAX_SAT} sat exceeds the safe Lightning threshold: use Bitcoin on-chain for better settlement guarantees`,
      },
    },
  ],
};
