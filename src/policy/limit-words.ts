/**
 * The words of a LIMIT_EXCEEDED decision: which limit decides, the reason with its numbers and the
 * remedy. Value limits count fees, so the amounts advised leave room for the request's worst-case
 * fee; a rule cap (a bigint facet) is said with its declared quantity and unit, a relative one with
 * the reference it was computed from; a cap that cannot be measured has words of its own.
 */
import type { LimitCheck } from '../core/decision.ts';
import type { Intent } from '../core/intent.ts';
import { isoTime } from './describe.ts';
import { measureCap } from './relative-cap.ts';
import { feeInAsset } from './snapshot.ts';
import type { PolicyRule, RuleCap } from './types.ts';
import type { CapVocabulary } from './vocabulary.ts';
import type { PolicyWords } from './words.ts';

export interface LimitFailure {
  rule: PolicyRule;
  check: LimitCheck;
}

/** The limit that decides when the request can pass: one that can never pass, else the latest to free up. */
export function bindingFailure(failures: readonly LimitFailure[]): LimitFailure | null {
  let best: LimitFailure | null = null;
  for (const f of failures) {
    if (f.check.freesAt === null) return f;
    if (best === null || (best.check.freesAt !== null && f.check.freesAt > best.check.freesAt)) best = f;
  }
  return best;
}

/** The rule cap the check is of, when it is one (its limit is the cap's name). */
function capOf(f: LimitFailure): RuleCap | null {
  return f.rule.caps.find((cap) => cap.name === f.check.limit) ?? null;
}

function limitName(f: LimitFailure): string {
  const c = f.check;
  const scope = c.perDestination === null ? '' : ` for ${c.perDestination}`;
  if (c.limit === 'max_per_tx' || capOf(f) !== null) return `${c.limit} of rule ${f.rule.id}`;
  return `${c.limit} ${c.measure === 'value' ? 'value' : 'count'} window of rule ${f.rule.id}${scope}`;
}

/** " with up to 0.0042 ETH (… wei) in fees" when the request pays fees: value limits count them. */
function withFees(intent: Intent, words: PolicyWords): string {
  const fee = feeInAsset(intent);
  return fee > 0n ? ` with up to ${words.formatAmount(intent.asset, fee)} in fees` : '';
}

/**
 * "lower the amount to at most X (what)" for a room of `room`, fees included: the amount advised
 * leaves room for the request's worst-case fee. When the fees alone fill the room, lowering
 * the fee is the advice instead.
 */
function lowerAmount(room: bigint, intent: Intent, what: string | null, words: PolicyWords): string {
  const show = (v: bigint) => words.formatAmount(intent.asset, v);
  const fee = feeInAsset(intent);
  const amount = room - fee;
  if (fee === 0n) return `lower the amount to at most ${show(room)}${what === null ? '' : ` (${what})`}`;
  if (amount <= 0n) {
    return `lower the fee: its fees of up to ${show(fee)} alone reach ${what ?? `the ${show(room)} left`}`;
  }
  return `lower the amount to at most ${show(amount)} (${what === null ? '' : `${what}, `}less its fees of up to ${show(fee)})`;
}

/** A cap's wording; a cap the words do not know (a hand-built Policy) is shown plainly. */
function capWords(name: string, words: PolicyWords): CapVocabulary {
  return (
    words.cap(name) ?? {
      name,
      quantity: name,
      format: String,
      notApplicable: `${name} does not apply to this request`,
      remedy: (cap) => `lower it to at most ${cap}`,
    }
  );
}

/** The cap as it bound the request: its value, and for a relative cap how it follows from the reference. */
function capBound(cap: RuleCap, w: CapVocabulary, intent: Intent, bound: bigint): string {
  const relative = w.relative;
  if (relative === undefined) return w.format(bound);
  const measure = measureCap(cap, w, intent);
  const reference = measure.kind === 'measured' && measure.reference !== null ? measure.reference : 0n;
  return `${relative.formatValue(cap.max)} of ${relative.referenceWords} ${w.format(reference)}: at most ${w.format(bound)}`;
}

/** A cap that concerns the request but cannot be measured for it: the reason of LIMIT_UNMEASURABLE. */
export function unmeasurableReason(rule: PolicyRule, cap: RuleCap, what: string, words: PolicyWords): string {
  const w = capWords(cap.name, words);
  const value =
    w.relative === undefined
      ? w.format(cap.max)
      : `${w.relative.formatValue(cap.max)} of ${w.relative.referenceWords}`;
  const why = w.relative?.unmeasurable ?? 'its reference is unknown';
  return `Denied: the ${cap.name} of rule ${rule.id} caps the ${w.quantity} at ${value}, which cannot be measured for ${what} (${why}), and a cap that cannot be checked refuses.`;
}

export function unmeasurableRemedy(rule: PolicyRule, cap: RuleCap, words: PolicyWords): string {
  const w = capWords(cap.name, words);
  const fix = w.relative?.unmeasurableRemedy ?? 'retry once it can be measured';
  return `${fix}, or ask an operator to remove ${cap.name} from rule ${rule.id}`;
}

export function limitReason(f: LimitFailure, intent: Intent, what: string, words: PolicyWords): string {
  const c = f.check;
  if (c.limit === 'max_per_tx') {
    return `Denied: ${what}${withFees(intent, words)} is above the ${limitName(f)} (${words.formatAmount(intent.asset, c.cap)}).`;
  }
  const cap = capOf(f);
  if (cap !== null) {
    const w = capWords(cap.name, words);
    return `Denied: ${w.quantity} ${w.format(c.request)} is above the ${limitName(f)} (${capBound(cap, w, intent, c.cap)}).`;
  }
  if (c.measure === 'count') {
    return `Denied: ${what} would be operation ${c.used + c.reserved + 1n} in the ${limitName(f)}, whose cap is ${c.cap} (${c.used} committed, ${c.reserved} reserved).`;
  }
  const show = (v: bigint) => words.formatAmount(intent.asset, v);
  const fees = feeInAsset(intent) > 0n ? ', fees included' : '';
  return `Denied: ${what}${withFees(intent, words)} would bring the ${limitName(f)} to ${show(c.used + c.reserved + c.request)}, above its cap of ${show(c.cap)} (${show(c.used)} committed, ${show(c.reserved)} reserved${fees}).`;
}

export function limitRemedy(f: LimitFailure, intent: Intent, words: PolicyWords): string {
  const c = f.check;
  const show = (v: bigint) => words.formatAmount(intent.asset, v);
  if (c.limit === 'max_per_tx') {
    return `${lowerAmount(c.cap, intent, null, words)}, or ask an operator to raise max_per_tx of rule ${f.rule.id}`;
  }
  const cap = capOf(f);
  if (cap !== null) {
    const w = capWords(cap.name, words);
    return `${w.remedy(w.format(c.cap))}, or ask an operator to raise ${cap.name} of rule ${f.rule.id}`;
  }
  if (c.freesAt === null) {
    return c.measure === 'value'
      ? `${lowerAmount(c.cap, intent, `the cap of the ${limitName(f)}`, words)}, or ask an operator to raise that cap`
      : `ask an operator to raise the cap of the ${limitName(f)}`;
  }
  const when = isoTime(Date.parse(c.freesAt));
  const need = c.used + c.reserved + c.request - c.cap;
  const calendar = c.limit === 'day' || c.limit === 'week' || c.limit === 'month';
  if (c.measure === 'count') {
    return calendar
      ? `wait until ${when} when the ${limitName(f)} starts over, or ask an operator to raise its cap`
      : `wait until ${when} when ${need} of the ${c.used + c.reserved} operations in the ${limitName(f)} ${need === 1n ? 'has' : 'have'} aged out, or ask an operator to raise its cap`;
  }
  const room = c.cap - c.used - c.reserved;
  const lower = room > 0n ? `, or ${lowerAmount(room, intent, null, words)}` : '';
  return calendar
    ? `wait until ${when} when the ${limitName(f)} starts over${lower}`
    : `wait until ${when} when ${show(need)} of the ${limitName(f)} frees up${lower}`;
}
