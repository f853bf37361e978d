import {
  AMOUNT,
  BTC_PAYMENT,
  BTC_SEND,
  type CatalogEntry,
  DESTINATION,
  LN_PAY,
  LN_PAYMENT,
  NOSTR_SIGN,
} from './catalog-types.ts';
import { DM_KINDS } from './kinds.ts';

/**
 * Every row of guideline 003's tables: financial, operational and security risks, then the Bitcoin,
 * Lightning and Nostr risk matrices. Numbers and reading of the words: see catalog.ts.
 */
export const GUIDELINE_ROWS: readonly CatalogEntry[] = [
  // ── Financial (guideline table 1) ───────────────────────────────────────────────────────────────
  {
    id: 'btc.wrong-address',
    name: 'Transaction to wrong address',
    category: 'financial',
    protocol: 'bitcoin',
    severity: 4, // Critical
    likelihood: 1, // Low
    mitigation:
      'Verify the address via multiple sources; allowlist destinations; send a small test payment first',
    source: 'guideline:financial',
    appliesTo: [{ protocol: 'bitcoin', actions: ['send'], when: [AMOUNT, DESTINATION] }],
  },
  {
    id: 'btc.fee-overpayment',
    name: 'Overpaying fees',
    category: 'financial',
    protocol: 'bitcoin',
    severity: 2, // Medium
    likelihood: 2, // Medium
    mitigation:
      'Cap the fee rate and the total fee; estimate from the current mempool; bump with RBF instead of overbidding',
    source: 'guideline:financial',
    appliesTo: [BTC_SEND],
  },
  {
    id: 'ln.force-close-loss',
    name: 'Channel force-close loss',
    category: 'financial',
    protocol: 'lightning',
    severity: 3, // High
    likelihood: 1, // Low
    mitigation: 'Monitor channels, maintain a watchtower',
    source: 'guideline:financial',
    appliesTo: [LN_PAY],
  },
  {
    id: 'ln.stuck-htlcs.financial',
    name: 'Stuck HTLCs',
    category: 'financial',
    protocol: 'lightning',
    severity: 2, // Medium
    likelihood: 2, // Medium
    mitigation: 'Keep in-flight amounts reserved until resolved; bound CLTV expiry and payment timeouts',
    source: 'guideline:financial',
    appliesTo: [LN_PAYMENT],
  },
  // Nostr "N/A (no native payments)", impact None: not a risk, no row.

  // ── Operational (guideline table 2) ─────────────────────────────────────────────────────────────
  {
    id: 'btc.node-sync-failure',
    name: 'Node sync failure',
    category: 'operational',
    protocol: 'bitcoin',
    severity: 2, // Medium
    likelihood: 1, // Low
    mitigation: 'Check the node is synced before building or broadcasting; keep a fallback backend',
    source: 'guideline:operational',
    appliesTo: [BTC_SEND],
  },
  {
    id: 'btc.api-rate-limit',
    name: 'API rate limiting',
    category: 'operational',
    protocol: 'bitcoin',
    severity: 1, // Low
    likelihood: 2, // Medium
    mitigation: 'Back off and retry; run an own node or keep a second provider',
    source: 'guideline:operational',
    appliesTo: [BTC_SEND],
  },
  {
    id: 'ln.channel-depletion',
    name: 'Channel depletion',
    category: 'operational',
    protocol: 'lightning',
    severity: 3, // High
    likelihood: 2, // Medium
    mitigation: 'Monitor local balance (alert below 10%); rebalance or receive before paying',
    source: 'guideline:operational',
    appliesTo: [LN_PAYMENT],
  },
  {
    id: 'ln.node-offline',
    name: 'Node offline',
    category: 'operational',
    protocol: 'lightning',
    severity: 3, // High
    likelihood: 1, // Low
    mitigation: 'Monitor node health; keep a backup node; alert the operator',
    source: 'guideline:operational',
    appliesTo: [LN_PAY],
  },
  {
    id: 'nostr.relay-unavailable',
    name: 'Relay unavailability',
    category: 'operational',
    protocol: 'nostr',
    severity: 1, // Low
    likelihood: 2, // Medium
    mitigation: 'Publish to several relays; keep at least 3 healthy relays',
    source: 'guideline:operational',
    appliesTo: [NOSTR_SIGN],
  },
  {
    id: 'nostr.event-rejection',
    name: 'Event rejection',
    category: 'operational',
    protocol: 'nostr',
    severity: 1, // Low
    likelihood: 1, // Low
    mitigation: 'Check relay limits (NIP-11); retry on other relays',
    source: 'guideline:operational',
    appliesTo: [NOSTR_SIGN],
  },

  // ── Security (guideline table 3) ────────────────────────────────────────────────────────────────
  {
    id: 'btc.seed-exposure',
    name: 'Seed phrase exposure',
    category: 'security',
    protocol: 'bitcoin',
    severity: 4, // Critical
    likelihood: 1, // Low
    mitigation: 'Keep the seed sealed in the vault; never export it; encrypted offline backup only',
    source: 'guideline:security',
    appliesTo: [{ protocol: 'bitcoin' }],
  },
  {
    id: 'ln.hot-wallet-compromise',
    name: 'Hot wallet compromise',
    category: 'security',
    protocol: 'lightning',
    severity: 4, // Critical
    likelihood: 2, // Medium (the guideline's sketch: UNLIKELY)
    mitigation: 'Limit hot wallet balance, use hardware signing',
    source: 'guideline:security',
    appliesTo: [{ protocol: 'lightning' }],
  },
  {
    id: 'nostr.key-theft',
    name: 'Private key theft',
    category: 'security',
    protocol: 'nostr',
    severity: 3, // High
    likelihood: 2, // Medium
    mitigation: 'Keep the nsec in the vault and sign remotely (NIP-46); rotate the identity if exposed',
    source: 'guideline:security',
    appliesTo: [{ protocol: 'nostr' }],
  },
  {
    id: 'all.mitm',
    name: 'Man-in-the-middle',
    category: 'security',
    protocol: 'all',
    severity: 3, // High
    likelihood: 1, // Low
    mitigation: 'Use TLS with pinning or Tor; verify backend and relay identities',
    source: 'guideline:security',
    appliesTo: [
      { protocol: 'bitcoin' },
      { protocol: 'lightning' },
      { protocol: 'nostr' },
      { protocol: 'evm' },
    ],
  },

  // ── Bitcoin risk matrix ─────────────────────────────────────────────────────────────────────────
  {
    // Warden only sends; its own 0-conf exposure is spending unconfirmed outputs (if the parent is
    // double-spent, this payment vanishes). The bitcoin backend reports it as a signal.
    id: 'btc.double-spend-0conf',
    name: 'Double-spend (0-conf)',
    category: 'financial',
    protocol: 'bitcoin',
    severity: 3, // High
    likelihood: 3, // Possible
    mitigation: 'Wait for confirmations',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [
      { protocol: 'bitcoin', actions: ['send'], when: [{ type: 'signal', signal: 'spendsUnconfirmed' }] },
    ],
  },
  {
    id: 'btc.fee-sniping',
    name: 'Fee sniping',
    category: 'financial',
    protocol: 'bitcoin',
    severity: 2, // Medium
    likelihood: 1, // Rare
    mitigation: 'Use sequence locks',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [BTC_SEND],
  },
  {
    id: 'btc.address-reuse',
    name: 'Address reuse',
    category: 'privacy',
    protocol: 'bitcoin',
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'HD wallet, new address per tx',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [BTC_SEND],
  },
  {
    id: 'btc.utxo-dust',
    name: 'UTXO dust',
    category: 'financial',
    protocol: 'bitcoin',
    severity: 1, // Low
    likelihood: 4, // Likely
    mitigation: 'Consolidate during low fees',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [BTC_SEND],
  },
  {
    id: 'btc.reorg-1conf',
    name: 'Reorg (1-conf)',
    category: 'financial',
    protocol: 'bitcoin',
    severity: 3, // High
    likelihood: 1, // Rare
    mitigation: 'Wait for 2-3 confirmations',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [BTC_PAYMENT],
  },
  {
    id: 'btc.reorg-6conf',
    name: 'Reorg (6-conf)',
    category: 'financial',
    protocol: 'bitcoin',
    severity: 4, // Critical
    likelihood: 1, // Very rare → 1 (nothing below Rare on the scale)
    mitigation: 'Accept 6-conf as final',
    source: 'guideline:bitcoin-matrix',
    appliesTo: [BTC_PAYMENT],
  },

  // ── Lightning risk matrix ───────────────────────────────────────────────────────────────────────
  {
    id: 'ln.counterparty-offline',
    name: 'Counterparty offline',
    category: 'operational',
    protocol: 'lightning',
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Multiple channels',
    source: 'guideline:lightning-matrix',
    appliesTo: [LN_PAY],
  },
  {
    id: 'ln.force-close-high-fees',
    name: 'Force close (high fees)',
    category: 'financial',
    protocol: 'lightning',
    severity: 3, // High
    likelihood: 2, // Unlikely
    mitigation: 'Anchor outputs, watchtower',
    source: 'guideline:lightning-matrix',
    appliesTo: [LN_PAY],
  },
  {
    id: 'ln.stuck-htlc.matrix',
    name: 'Stuck HTLC',
    category: 'financial',
    protocol: 'lightning',
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Timeout handling',
    source: 'guideline:lightning-matrix',
    appliesTo: [LN_PAYMENT],
  },
  {
    id: 'ln.routing-failure',
    name: 'Routing failure',
    category: 'operational',
    protocol: 'lightning',
    severity: 1, // Low
    likelihood: 4, // Likely
    mitigation: 'MPP, fallback to Bitcoin',
    source: 'guideline:lightning-matrix',
    appliesTo: [LN_PAYMENT],
  },
  {
    id: 'ln.channel-exhaustion',
    name: 'Channel exhaustion',
    category: 'operational',
    protocol: 'lightning',
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Monitor, rebalance',
    source: 'guideline:lightning-matrix',
    appliesTo: [LN_PAYMENT],
  },
  {
    id: 'ln.payment-tracking',
    name: 'Payment tracking',
    category: 'privacy',
    protocol: 'lightning',
    severity: 2, // Medium
    likelihood: 2, // Unlikely
    mitigation: 'Multiple nodes, Tor',
    source: 'guideline:lightning-matrix',
    appliesTo: [LN_PAY],
  },

  // ── Nostr risk matrix ───────────────────────────────────────────────────────────────────────────
  {
    id: 'nostr.relay-censorship',
    name: 'Relay censorship',
    category: 'operational',
    protocol: 'nostr',
    severity: 1, // Low
    likelihood: 3, // Possible
    mitigation: 'Multiple relays',
    source: 'guideline:nostr-matrix',
    appliesTo: [NOSTR_SIGN],
  },
  {
    id: 'nostr.relay-data-loss',
    name: 'Relay data loss',
    category: 'operational',
    protocol: 'nostr',
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Publish to 5+ relays',
    source: 'guideline:nostr-matrix',
    appliesTo: [NOSTR_SIGN],
  },
  {
    id: 'nostr.identity-linking',
    name: 'Identity linking',
    category: 'privacy',
    protocol: 'nostr',
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Separate npubs',
    source: 'guideline:nostr-matrix',
    appliesTo: [NOSTR_SIGN],
  },
  {
    id: 'nostr.dm-interception',
    name: 'DM interception',
    category: 'privacy',
    protocol: 'nostr',
    severity: 3, // High
    likelihood: 1, // Rare
    mitigation: 'NIP-44 encryption',
    source: 'guideline:nostr-matrix',
    appliesTo: [
      { protocol: 'nostr', actions: ['sign_event'], when: [{ type: 'nostr-kind', kinds: DM_KINDS }] },
    ],
  },
  {
    // Signing anything in the identity's name is what an impersonator would want to do.
    id: 'nostr.impersonation',
    name: 'Impersonation',
    category: 'security',
    protocol: 'nostr',
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'NIP-05 verification',
    source: 'guideline:nostr-matrix',
    appliesTo: [NOSTR_SIGN],
  },
];
