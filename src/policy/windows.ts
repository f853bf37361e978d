/**
 * Limit checks of one matching rule: max_per_tx, the rule's caps and every window limit, with the
 * numbers (used, reserved, request, cap) and, when a check fails, when it would pass (freesAt).
 * A cap relative to a reference is checked in the measured quantity's unit (relative-cap.ts).
 *
 * Fees are money: value limits (max_per_tx and every max_value window) count an operation's amount
 * plus its fee — for a request its worst-case fee (`maxFee`), for a ledger entry the fee booked
 * (the worst case until the fee actually paid is known).
 */
import type { LimitCheck } from '../core/decision.ts';
import type { Intent } from '../core/intent.ts';
import { nextPeriodStart, windowStart } from './duration.ts';
import { measureCap } from './relative-cap.ts';
import { feeInAsset } from './snapshot.ts';
import type { PolicyLimit, PolicyRule, RuleCap } from './types.ts';
import type { WindowBucket, WindowTotals } from './window-totals.ts';
import type { PolicyWords } from './words.ts';

/** What a request counts against value limits: its amount plus the most its fees can cost. */
export function requestValue(intent: Intent): bigint {
  return intent.amount + feeInAsset(intent);
}
function simpleCheck(limit: string, request: bigint, cap: bigint): LimitCheck {
  return {
    limit,
    measure: 'value',
    used: 0n,
    reserved: 0n,
    request,
    cap,
    ok: request <= cap,
    perDestination: null,
    windowStart: null,
    freesAt: null,
  };
}

export function checkRuleLimits(
  rule: PolicyRule,
  intent: Intent,
  destinations: readonly string[],
  windows: WindowTotals,
  now: number,
  notes: string[],
  words: PolicyWords,
  /** Receives the caps that concern the request but cannot be measured (they refuse it). */
  unmeasurable: RuleCap[],
): LimitCheck[] {
  const checks: LimitCheck[] = [];
  const value = requestValue(intent);
  if (rule.maxPerTx !== null) checks.push(simpleCheck('max_per_tx', value, rule.maxPerTx));
  for (const cap of rule.caps) {
    const vocabulary = words.cap(cap.name);
    const measure = measureCap(cap, vocabulary, intent);
    if (measure.kind === 'not-applicable') {
      notes.push(vocabulary?.notApplicable ?? `${cap.name} does not apply to this request`);
    } else if (measure.kind === 'unmeasurable') {
      // Fails closed: a cap that concerns the request but cannot be checked refuses it.
      notes.push(
        `${cap.name} cannot be checked: ${vocabulary?.relative?.unmeasurable ?? 'its reference is unknown'}`,
      );
      unmeasurable.push(cap);
    } else checks.push(simpleCheck(cap.name, measure.quantity, measure.cap));
  }
  for (const limit of rule.limits) {
    // Per destination: each of the request's destinations has its own window; without one, the whole.
    const scopes: (string | null)[] =
      limit.perDestination && destinations.length > 0 ? [...destinations] : [null];
    for (const destination of scopes) {
      const bucket = windows.bucket(rule, limit, destination);
      if (limit.maxValue !== null) {
        checks.push(windowCheck(limit, 'value', limit.maxValue, value, bucket, destination, now));
      }
      if (limit.maxCount !== null) {
        checks.push(windowCheck(limit, 'count', BigInt(limit.maxCount), 1n, bucket, destination, now));
      }
    }
  }
  return checks;
}

function windowCheck(
  limit: PolicyLimit,
  measure: 'value' | 'count',
  cap: bigint,
  request: bigint,
  bucket: WindowBucket,
  perDestination: string | null,
  now: number,
): LimitCheck {
  const { used, reserved } = bucket[measure];
  const ok = used + reserved + request <= cap;
  let freesAt: number | null = null;
  if (!ok && request <= cap) {
    if (limit.window.kind === 'calendar') {
      freesAt = nextPeriodStart(limit.window.unit, now);
    } else {
      const leaves = bucket.leavingAt(measure, used + reserved + request - cap);
      freesAt = leaves === null ? null : leaves + limit.window.ms;
    }
  }
  return {
    limit: limit.window.label,
    measure,
    used,
    reserved,
    request,
    cap,
    ok,
    perDestination,
    windowStart: new Date(windowStart(limit.window, now)).toISOString(),
    freesAt: freesAt === null ? null : new Date(freesAt).toISOString(),
  };
}
