/**
 * Live facts from monitors (and the protocol backend) that raise the likelihood of some risks.
 * Every field is optional; an absent, non-boolean or non-finite value changes nothing.
 *
 * | signal                      | when                    | raises (likelihood)                                              |
 * |-----------------------------|-------------------------|------------------------------------------------------------------|
 * | highFees                    | true                    | +1 fee overpayment (btc, evm), force-close (both rows), UTXO dust |
 * | mempoolCongested            | true                    | +1 btc fee overpayment, btc double-spend at 0-conf                |
 * | relayHealthyCount           | < 3 (guideline alert)   | +1 relay unavailability, relay data loss, relay censorship        |
 * |                             | 0                       | +2 instead                                                       |
 * | channelLocalRatio           | < 0.1 (guideline alert) | +1 channel depletion, channel exhaustion, routing failure         |
 * | recentFailures              | ≥ 3                     | +1 the operational/transient rows of the intent's protocol        |
 * | spendsUnconfirmed           | true                    | makes btc double-spend (0-conf) apply (see the catalog)           |
 *
 * `highFees`: the fee monitor's alert (guideline: fastest fee above 100 sat/vB; EVM: base fee spike).
 * `mempoolCongested`: the guideline's alert at more than 100,000 mempool transactions.
 * `relayHealthyCount`: number of healthy relays of the identity.
 * `channelLocalRatio`: local balance / capacity of the channels a payment can use (0..1). The
 * guideline's "channel full" alert (> 0.9) only matters for receiving and is ignored here.
 * `recentFailures`: failed operations of the same protocol in the monitor's recent window.
 * `spendsUnconfirmed`: the bitcoin backend's coin selection spends unconfirmed (0-conf) outputs.
 * Bumps add up with the amount bump and the total is capped at 4 (Likely).
 */
export interface MonitorSignals {
  highFees?: boolean | undefined;
  mempoolCongested?: boolean | undefined;
  relayHealthyCount?: number | undefined;
  channelLocalRatio?: number | undefined;
  recentFailures?: number | undefined;
  spendsUnconfirmed?: boolean | undefined;
}

export interface LikelihoodBump {
  steps: number;
  reason: string;
}

interface SignalRule {
  readonly riskIds: readonly string[];
  readonly bump: (signals: MonitorSignals) => LikelihoodBump | null;
}

export const MIN_HEALTHY_RELAYS = 3;
export const DEPLETED_LOCAL_RATIO = 0.1;
export const FAILURES_ALERT = 3;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const RULES: readonly SignalRule[] = [
  {
    riskIds: [
      'btc.fee-overpayment',
      'evm.fee-overpayment',
      'ln.force-close-loss',
      'ln.force-close-high-fees',
      'btc.utxo-dust',
    ],
    bump: (s) => (s.highFees === true ? { steps: 1, reason: 'monitor: high fees, likelihood +1' } : null),
  },
  {
    riskIds: ['btc.fee-overpayment', 'btc.double-spend-0conf'],
    bump: (s) =>
      s.mempoolCongested === true ? { steps: 1, reason: 'monitor: mempool congested, likelihood +1' } : null,
  },
  {
    riskIds: ['nostr.relay-unavailable', 'nostr.relay-data-loss', 'nostr.relay-censorship'],
    bump: (s) => {
      const n = s.relayHealthyCount;
      if (!finite(n) || n >= MIN_HEALTHY_RELAYS) return null;
      if (n <= 0) return { steps: 2, reason: 'monitor: no healthy relay, likelihood +2' };
      return { steps: 1, reason: `monitor: ${n} healthy relays (< ${MIN_HEALTHY_RELAYS}), likelihood +1` };
    },
  },
  {
    riskIds: ['ln.channel-depletion', 'ln.channel-exhaustion', 'ln.routing-failure'],
    bump: (s) => {
      const r = s.channelLocalRatio;
      if (!finite(r) || r >= DEPLETED_LOCAL_RATIO) return null;
      return {
        steps: 1,
        reason: `monitor: channel local balance ${r} (< ${DEPLETED_LOCAL_RATIO}), likelihood +1`,
      };
    },
  },
  {
    riskIds: [
      'btc.node-sync-failure',
      'btc.api-rate-limit',
      'ln.node-offline',
      'ln.counterparty-offline',
      'ln.routing-failure',
      'ln.stuck-htlcs.financial',
      'ln.stuck-htlc.matrix',
      'nostr.relay-unavailable',
      'nostr.event-rejection',
    ],
    bump: (s) => {
      const n = s.recentFailures;
      if (!finite(n) || n < FAILURES_ALERT) return null;
      return { steps: 1, reason: `monitor: ${n} recent failures (≥ ${FAILURES_ALERT}), likelihood +1` };
    },
  },
];

/** The bumps the signals give to one risk, in rule order. */
export function signalBumps(riskId: string, signals: MonitorSignals | undefined): LikelihoodBump[] {
  if (signals === undefined || signals === null || typeof signals !== 'object') return [];
  const bumps: LikelihoodBump[] = [];
  for (const rule of RULES) {
    if (!rule.riskIds.includes(riskId)) continue;
    const bump = rule.bump(signals);
    if (bump !== null) bumps.push(bump);
  }
  return bumps;
}
