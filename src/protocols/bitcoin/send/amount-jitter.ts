/**
 * Amount jitter (issue 10, guideline OPSEC): a send whose recipient accepts a range of amounts
 * may pay a random one in it, so that the amount asked (a round number, the same every day) does
 * not link the payments of one agent. Opt-in twice: the request says what the recipient accepts
 * (request.ts `amount_jitter`), and the identity's policy caps how far from the amount asked a
 * payment may go — `max_amount_jitter` (sat) and `max_amount_jitter_bps` (of the amount asked),
 * with an allow or hold rule naming `amount_jitter: jittered` (opt-in facet, policy.ts).
 *
 * The amount is drawn here, when the intent is built, before judgement: policy, budgets, risk and
 * the approver see the exact amount that will be paid, and the ledger books it (plus the fee).
 * The draw stays within the tightest of those caps any rule of the policy sets, so no matching
 * rule can refuse the amount drawn; a policy that sets neither refuses jitter outright.
 */
import { WardenError } from '../../../core/errors.ts';
import { uniformBigint } from '../../../core/random.ts';
import type { AmountJitterRequest } from './request.ts';

export const JITTER_CAP = 'max_amount_jitter';
export const JITTER_CAP_BPS = 'max_amount_jitter_bps';

export interface JitterCaps {
  /** Most sat a payment may differ from the amount asked; null: not capped so. */
  maxSat: bigint | null;
  /** The same in basis points of the amount asked; null: not capped so. */
  maxBps: bigint | null;
}

/** The amounts that may be paid: the recipient's range cut to the policy's caps around `requested`. */
export function jitterRange(
  requested: bigint,
  asked: AmountJitterRequest,
  caps: JitterCaps,
): { minSat: bigint; maxSat: bigint } {
  if (caps.maxSat === null && caps.maxBps === null)
    throw new WardenError('INVALID_ARGUMENT', 'an amount jitter needs a cap');
  // Rounded down: a whole jitter j passes `j × 10000 ≤ bps × requested` exactly when j ≤ this.
  const byBps = caps.maxBps === null ? null : (caps.maxBps * requested) / 10_000n;
  const bound = [caps.maxSat, byBps].filter((b): b is bigint => b !== null).reduce((a, b) => (b < a ? b : a));
  const low = requested - bound;
  const high = requested + bound;
  return {
    minSat: asked.minSat > low ? asked.minSat : low,
    maxSat: asked.maxSat < high ? asked.maxSat : high,
  };
}

export interface JitteredAmount {
  requestedSat: bigint;
  /** What is paid, drawn uniformly from the range. */
  amountSat: bigint;
  range: { minSat: bigint; maxSat: bigint };
}

/** The caps of the policy the send is judged by; AMOUNT_JITTER_NOT_ALLOWED when it sets none. */
export function policyJitterCaps(policyCap: ((name: string) => bigint | null) | undefined): JitterCaps {
  const caps = { maxSat: policyCap?.(JITTER_CAP) ?? null, maxBps: policyCap?.(JITTER_CAP_BPS) ?? null };
  if (caps.maxSat === null && caps.maxBps === null)
    throw new WardenError(
      'AMOUNT_JITTER_NOT_ALLOWED',
      `amount_jitter: the identity's policy does not cap amount jitter (${JITTER_CAP} or ${JITTER_CAP_BPS}), so it pays only the amount asked; send without amount_jitter, or ask an operator to opt in`,
      { field: 'amount_jitter' },
    );
  return caps;
}

/** The amount paid, drawn from the CSPRNG in whole sat within the recipient's range and the caps. */
export function drawJitteredAmount(
  requested: bigint,
  asked: AmountJitterRequest,
  caps: JitterCaps,
): JitteredAmount {
  const range = jitterRange(requested, asked, caps);
  return { requestedSat: requested, amountSat: uniformBigint(range.minSat, range.maxSat), range };
}

/**
 * What the jitter caps and the opt-in read (policy.ts): `amount_jitter` on every send, and for a
 * jittered one how far the amount paid is from the one asked, and the amount asked (the bps cap's
 * reference). Without jitter the caps do not concern the send (the trail says so).
 */
export function jitterFacets(jittered: JitteredAmount | null) {
  if (!jittered) return { amount_jitter: 'none' };
  const { amountSat, requestedSat } = jittered;
  return {
    amount_jitter: 'jittered',
    [JITTER_CAP]: amountSat > requestedSat ? amountSat - requestedSat : requestedSat - amountSat,
    requested_amount_sat: requestedSat,
  };
}
