/**
 * evaluate: (intent, risk, ledger snapshot, policy, now) → Decision. Pure and deterministic: no I/O,
 * no clock, no randomness, inputs never changed. See docs/policy.md for the semantics.
 *
 * The snapshot's windows come either from its entries, walked on every check (the reference), or
 * from running totals of the budget (a RunningSnapshot: budget-windows.ts), which give the same
 * Decision at a cost that does not grow with the entries; those build a rule's index at its first
 * check, a memo nothing can observe.
 */
import type { Decision, HoldRequirement, RuleTrace } from '../core/decision.ts';
import { WardenError } from '../core/errors.ts';
import type { Intent } from '../core/intent.ts';
import { type RiskAssessment, TOLERANCE_THRESHOLDS } from '../core/risk.ts';
import { describeMs } from './describe.ts';
import { normalizeDestination } from './destination.ts';
import {
  bindingFailure,
  type LimitFailure,
  limitReason,
  limitRemedy,
  unmeasurableReason,
  unmeasurableRemedy,
} from './limit-words.ts';
import { intentDestinations, matchIntent } from './match.ts';
import type { LedgerSnapshot } from './snapshot.ts';
import type { Policy, PolicyRule, RuleCap } from './types.ts';
import { listWindows, type RunningSnapshot, type WindowTotals, type WindowView } from './window-totals.ts';
import { checkRuleLimits } from './windows.ts';
import type { PolicyWords } from './words.ts';

export const GLOBAL_TRACE = '(global)';
export const FIRST_PAYMENT_REASON = 'first payment to this destination';

interface HoldSource {
  rule: PolicyRule | null;
  approvals: number;
  delayMs: number;
  reason: string;
}

interface DestinationFailure {
  rule: PolicyRule | null;
  destination: string;
  list: 'deny' | 'allow';
}

/** The global risk cap: `risk.max_score` when given, else the threshold of `risk.tolerance`. */
export function globalRiskCap(policy: Policy): number {
  return policy.risk.maxScore ?? TOLERANCE_THRESHOLDS[policy.risk.tolerance];
}

export function evaluate(
  intent: Intent,
  risk: RiskAssessment,
  snapshot: LedgerSnapshot | RunningSnapshot,
  policy: Policy,
  now: Date,
): Decision {
  const t = now.getTime();
  if (!Number.isFinite(t)) throw new WardenError('INVALID_ARGUMENT', 'evaluate: now is not a valid time');
  if (typeof intent.amount !== 'bigint' || intent.amount < 0n) {
    throw new WardenError('INVALID_ARGUMENT', 'evaluate: intent amount must be a non-negative bigint');
  }
  if (typeof intent.maxFee !== 'bigint' || intent.maxFee < 0n) {
    throw new WardenError('INVALID_ARGUMENT', 'evaluate: intent maxFee must be a non-negative bigint');
  }

  const words = policy.words;
  const destinations = intentDestinations(intent);
  const windows =
    'windows' in snapshot ? runningWindows(snapshot.windows, intent, t) : listWindows(intent, snapshot, t);
  let newDestinations: string[] | null = null;
  const firstPayments = (): string[] => {
    if (newDestinations === null) {
      const known = new Set([...snapshot.knownDestinations].map(normalizeDestination));
      newDestinations = destinations.filter((d) => !known.has(d));
    }
    return newDestinations;
  };

  const trail: RuleTrace[] = [];
  let denyRule: PolicyRule | null = null;
  const permitting: PolicyRule[] = [];
  const holds: HoldSource[] = [];
  const destinationFailures: DestinationFailure[] = [];
  const riskFailures: { rule: PolicyRule | null; cap: number }[] = [];
  const limitFailures: LimitFailure[] = [];
  const unmeasured: { rule: PolicyRule; cap: RuleCap }[] = [];

  for (const rule of policy.rules) {
    const mismatch = matchIntent(rule, intent, destinations, policy.optIn, words);
    if (mismatch !== null) {
      trail.push({ rule: rule.id, index: rule.index, matched: false, mismatch, limits: [], notes: [] });
      continue;
    }
    const notes: string[] = [];
    const unmeasurable: RuleCap[] = [];
    const limits = checkRuleLimits(rule, intent, destinations, windows, t, notes, words, unmeasurable);
    for (const cap of unmeasurable) unmeasured.push({ rule, cap });
    for (const check of limits) if (!check.ok) limitFailures.push({ rule, check });
    checkLists(rule, rule.denylist, rule.allowlist, destinations, destinationFailures, notes);
    if (rule.newDestination === 'hold' && firstPayments().length > 0) {
      holds.push({ rule, approvals: 1, delayMs: 0, reason: FIRST_PAYMENT_REASON });
      notes.push(`${FIRST_PAYMENT_REASON}: ${firstPayments().join(', ')} (held for approval)`);
    }
    if (rule.maxRiskScore !== null) {
      const ok = risk.score <= rule.maxRiskScore;
      if (!ok) riskFailures.push({ rule, cap: rule.maxRiskScore });
      notes.push(`risk score ${risk.score} ${ok ? 'is within' : 'is above'} max_score ${rule.maxRiskScore}`);
    }
    if (rule.effect === 'deny') denyRule ??= rule;
    else permitting.push(rule);
    if (rule.effect === 'hold') {
      holds.push({
        rule,
        approvals: rule.approvals,
        delayMs: rule.delayMs,
        reason: rule.description ?? `rule ${rule.id} holds ${words.describeIntent(intent)}`,
      });
    }
    trail.push({ rule: rule.id, index: rule.index, matched: true, effect: rule.effect, limits, notes });
  }

  // Policy-wide settings, recorded as one last trail entry.
  const globalNotes: string[] = [];
  checkLists(
    null,
    policy.destinations.deny,
    policy.destinations.allow,
    destinations,
    destinationFailures,
    globalNotes,
  );
  if (policy.newDestination === 'hold' && firstPayments().length > 0) {
    holds.push({ rule: null, approvals: 1, delayMs: 0, reason: FIRST_PAYMENT_REASON });
    globalNotes.push(`${FIRST_PAYMENT_REASON}: ${firstPayments().join(', ')} (held for approval)`);
  }
  const cap = globalRiskCap(policy);
  const riskOk = risk.score <= cap;
  if (!riskOk) riskFailures.push({ rule: null, cap });
  globalNotes.push(
    `risk score ${risk.score} ${riskOk ? 'is within' : 'is above'} the global max_score ${cap}${policy.risk.maxScore === null ? ` (tolerance ${policy.risk.tolerance})` : ''}`,
  );
  trail.push({ rule: GLOBAL_TRACE, index: -1, matched: true, limits: [], notes: globalNotes });

  const base = { trail, risk };
  const deny = (
    code: Decision['code'],
    reason: string,
    decidingRule: string | null,
    remedy: string,
  ): Decision => ({
    outcome: 'deny',
    code,
    reason,
    decidingRule,
    remedy,
    hold: null,
    ...base,
  });
  const what = words.describeIntent(intent);

  if (denyRule !== null) {
    const why = denyRule.description === null ? '' : ` (${stripPeriod(denyRule.description)})`;
    return deny(
      'POLICY_DENIED',
      `Denied by rule ${denyRule.id}${why}: it denies ${what}.`,
      denyRule.id,
      `ask an operator to change rule ${denyRule.id}, or change the request so that the rule no longer matches it`,
    );
  }
  const denied = destinationFailures.find((f) => f.list === 'deny');
  if (denied !== undefined) {
    const where = denied.rule === null ? 'the global denylist' : `the denylist of rule ${denied.rule.id}`;
    return deny(
      'DESTINATION_DENIED',
      `Denied: destination ${denied.destination} is on ${where}.`,
      denied.rule?.id ?? null,
      `pay a destination that is not denied, or ask an operator to remove ${denied.destination} from ${where}`,
    );
  }
  if (permitting.length === 0) {
    return deny(
      'NO_MATCHING_RULE',
      `Denied: no rule allows or holds ${what}, and anything no rule allows is denied.`,
      null,
      `ask an operator to add a rule that allows or holds it, e.g. match: { ${exampleMatch(intent, words)} } with effect hold`,
    );
  }
  const notAllowed = destinationFailures.find((f) => f.list === 'allow');
  if (notAllowed !== undefined) {
    const where =
      notAllowed.rule === null
        ? 'the global allowlist (destinations.allow)'
        : `the allowlist of rule ${notAllowed.rule.id}`;
    return deny(
      'DESTINATION_DENIED',
      `Denied: destination ${notAllowed.destination} is not on ${where}.`,
      notAllowed.rule?.id ?? null,
      `ask an operator to add ${notAllowed.destination} to ${where}`,
    );
  }
  const riskFailure = riskFailures[0];
  if (riskFailure !== undefined) {
    const strictest = riskFailures.reduce((a, b) => (b.cap < a.cap ? b : a));
    const where = strictest.rule === null ? 'the policy' : `rule ${strictest.rule.id}`;
    const setting =
      strictest.rule === null ? 'the global risk.max_score' : `risk.max_score of rule ${strictest.rule.id}`;
    const alternative =
      risk.alternative === null
        ? ''
        : `, or use ${risk.alternative.protocol} instead (${stripPeriod(risk.alternative.reason)})`;
    return deny(
      'RISK_TOO_HIGH',
      `Denied: risk score ${risk.score} is above the maximum of ${strictest.cap} set by ${where}; top risks: ${topRisks(risk)}.`,
      strictest.rule?.id ?? null,
      `ask an operator to accept the risk (raise ${setting} to at least ${risk.score}), lower the amount${alternative}`,
    );
  }
  // Before the limits exceeded: lowering the amount cannot help a cap that cannot be checked.
  const unchecked = unmeasured[0];
  if (unchecked !== undefined) {
    return deny(
      'LIMIT_UNMEASURABLE',
      unmeasurableReason(unchecked.rule, unchecked.cap, what, words),
      unchecked.rule.id,
      unmeasurableRemedy(unchecked.rule, unchecked.cap, words),
    );
  }
  const binding = bindingFailure(limitFailures);
  if (binding !== null) {
    return deny(
      'LIMIT_EXCEEDED',
      limitReason(binding, intent, what, words),
      binding.rule.id,
      limitRemedy(binding, intent, words),
    );
  }

  if (holds.length > 0) {
    const hold: HoldRequirement = {
      approvals: Math.max(...holds.map((h) => h.approvals)),
      delaySeconds: Math.max(...holds.map((h) => h.delayMs)) / 1000,
      reasons: [...new Set(holds.map((h) => h.reason))],
    };
    const decider = holds.find((h) => h.rule !== null)?.rule ?? permitting[0]!;
    return {
      outcome: 'hold',
      code: 'HELD',
      reason: `Held by rule ${decider.id}: ${what} needs ${holdNeeds(hold)}.`,
      decidingRule: decider.id,
      remedy: null,
      hold,
      ...base,
    };
  }
  const allowRule = permitting[0]!;
  return {
    outcome: 'allow',
    code: 'ALLOWED',
    reason: `Allowed by rule ${allowRule.id}: ${what} is within every limit of every matching rule.`,
    decidingRule: allowRule.id,
    remedy: null,
    hold: null,
    ...base,
  };
}

/** Running totals answer for one budget at one time: anything else would be someone else's numbers. */
function runningWindows(view: WindowView, intent: Intent, t: number): WindowTotals {
  if (view.identity !== intent.identity || view.asset !== intent.asset.toLowerCase() || view.now !== t) {
    throw new WardenError(
      'INVALID_ARGUMENT',
      'evaluate: the window totals are of another budget or another time than the request',
    );
  }
  return view;
}

function checkLists(
  rule: PolicyRule | null,
  denylist: readonly string[] | null,
  allowlist: readonly string[] | null,
  destinations: readonly string[],
  failures: DestinationFailure[],
  notes: string[],
): void {
  const which = rule === null ? 'global' : 'rule';
  if (denylist !== null && denylist.length > 0) {
    const denied = new Set(denylist);
    const hits = destinations.filter((d) => denied.has(d));
    for (const d of hits) failures.push({ rule, destination: d, list: 'deny' });
    notes.push(
      hits.length > 0
        ? `on the ${which} denylist: ${hits.join(', ')}`
        : `${which} denylist: no destination on it`,
    );
  }
  if (allowlist !== null) {
    const allowed = new Set(allowlist);
    const misses = destinations.filter((d) => !allowed.has(d));
    for (const d of misses) failures.push({ rule, destination: d, list: 'allow' });
    notes.push(
      misses.length > 0
        ? `not on the ${which} allowlist: ${misses.join(', ')}`
        : `${which} allowlist: every destination is on it`,
    );
  }
}

function stripPeriod(s: string): string {
  return s.trim().replace(/[.!]+$/, '');
}

function topRisks(risk: RiskAssessment): string {
  const top = [...risk.risks]
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, 3);
  return top.length === 0 ? 'none listed' : top.map((r) => `${r.name} (${r.score})`).join(', ');
}

function exampleMatch(intent: Intent, words: PolicyWords): string {
  const parts = [`protocol: ${intent.protocol}`, `action: ${intent.action}`, `asset: "${intent.asset}"`];
  return [...parts, ...words.exampleFacets(intent)].join(', ');
}

function holdNeeds(hold: HoldRequirement): string {
  const approvals =
    hold.approvals > 0
      ? `${hold.approvals} distinct operator approval${hold.approvals === 1 ? '' : 's'}`
      : '';
  const delay =
    hold.delaySeconds > 0
      ? `a ${describeMs(hold.delaySeconds * 1000)
          .replace(/s$/, '')
          .replace(' ', '-')} delay`
      : '';
  if (approvals && delay) return `${approvals} and ${delay} (released after both, unless vetoed)`;
  if (delay) return `${delay} (released automatically unless an operator vetoes it)`;
  return approvals;
}
