import type { SignalRule, SignalTest } from './catalog-types.ts';

/**
 * Live facts from monitors (and the protocol backend) that raise the likelihood of some risks, by
 * name. Each catalog row lists the signal rules that raise it (`raisedBy`); a protocol module declares
 * the rules of its own signals beside its rows. Every field is optional; an absent, non-boolean or
 * non-finite value changes nothing. Bumps add up with the amount bump and the total is capped at 4
 * (Likely).
 *
 * The signals every protocol may have are declared here:
 *
 * | signal          | when  | raises (likelihood)                                           |
 * |-----------------|-------|---------------------------------------------------------------|
 * | highFees        | true  | +1 the fee rows (fee overpayment, force-close, dust)           |
 * | recentFailures  | ≥ 3   | +1 the operational/transient rows of the intent's protocol     |
 * | paidBefore      | true  | (a condition) the rows of paying one destination again         |
 *
 * `highFees`: the fee monitor's alert (guideline: fastest fee above 100 sat/vB; or a base fee spike).
 * `recentFailures`: failed operations of the same protocol in the monitor's recent window.
 * The modules declare the others (src/protocols/<name>/risks.ts): the mempool, relay and channel
 * monitors, and the facts a backend reports (a coin selection spending unconfirmed outputs), which
 * reach risk in the intent's `signals` (core/intent.ts).
 */
export type MonitorSignals = Readonly<Record<string, unknown>>;

export interface LikelihoodBump {
  steps: number;
  reason: string;
}

export const FAILURES_ALERT = 3;

/**
 * `paidBefore`: a destination of the request was paid before by the same identity (a committed
 * entry of the ledger): the gateway's fact, from the snapshot it judges with. A condition, not a
 * bump: it makes the rows that name it apply (an address paid again links the payments).
 */
export const PAID_BEFORE = 'paidBefore';

export const HIGH_FEES: SignalRule = {
  signal: 'highFees',
  tiers: [{ test: { type: 'true' }, steps: 1, reason: 'monitor: high fees, likelihood +1' }],
};

export const RECENT_FAILURES: SignalRule = {
  signal: 'recentFailures',
  tiers: [
    {
      test: { type: 'at-least', than: FAILURES_ALERT },
      steps: 1,
      reason: `monitor: {value} recent failures (≥ ${FAILURES_ALERT}), likelihood +1`,
    },
  ],
};

export const IS_TRUE: SignalTest = Object.freeze({ type: 'true' });

/** Whether a signal's value passes a test: true, or a finite number compared. */
export function signalPasses(test: SignalTest, value: unknown): boolean {
  if (test.type === 'true') return value === true;
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  switch (test.type) {
    case 'below':
      return value < test.than;
    case 'at-most':
      return value <= test.than;
    case 'at-least':
      return value >= test.than;
  }
}

/** The bump one rule gives, or null: the first tier whose test holds. */
export function signalBump(rule: SignalRule, signals: MonitorSignals | undefined): LikelihoodBump | null {
  if (signals === undefined || signals === null || typeof signals !== 'object') return null;
  const value = signals[rule.signal];
  const tier = rule.tiers.find((t) => signalPasses(t.test, value));
  return tier === undefined
    ? null
    : { steps: tier.steps, reason: tier.reason.replaceAll('{value}', String(value)) };
}

/** The bumps the signals give to one risk, in the order of its rules. */
export function signalBumps(
  rules: readonly SignalRule[] | undefined,
  signals: MonitorSignals | undefined,
): LikelihoodBump[] {
  const bumps: LikelihoodBump[] = [];
  for (const rule of rules ?? []) {
    const bump = signalBump(rule, signals);
    if (bump !== null) bumps.push(bump);
  }
  return bumps;
}
