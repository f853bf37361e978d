/**
 * explainPolicy: the policy in plain language, one sentence per rule and per limit, amounts with
 * their unit where the asset is known. What operators read before they trust a policy. The words
 * are those of the language the policy was read in (policy.words).
 */
import { TOLERANCE_THRESHOLDS } from '../core/risk.ts';
import { BASE_UNITS } from './amount.ts';
import { describeMs } from './describe.ts';
import { describeWindow } from './duration.ts';
import type { Policy, PolicyLimit, PolicyRule, RuleMatch } from './types.ts';
import type { AssetUnit } from './vocabulary.ts';
import type { PolicyWords } from './words.ts';

export function joinOr(items: readonly string[], word = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}

function subject(m: RuleMatch, words: PolicyWords): string {
  const protocols = m.protocols;
  const actions = m.actions;
  if (protocols === null && actions === null) return 'all requests';
  if (protocols === null)
    return joinOr(
      (actions ?? []).map((a) => words.actionNoun(a)),
      'and',
    );
  const phrases: string[] = [];
  for (const p of protocols) {
    const title = words.protocolTitle(p);
    const own = words.protocolActions(p).filter((a) => actions === null || actions.includes(a));
    if (actions === null && own.length > 1) phrases.push(`${title} requests`);
    else for (const a of own) phrases.push(`${title} ${words.actionNoun(a, p)}`);
  }
  if (phrases.length === 0) {
    return `${joinOr(protocols.map((p) => words.protocolTitle(p)))} ${joinOr((actions ?? []).map((a) => a))} requests (which do not exist)`;
  }
  return joinOr(phrases, 'and');
}

/** All the same unit (by id), or null. */
function common(units: readonly (AssetUnit | null)[]): AssetUnit | null {
  const first = units[0];
  if (first === undefined || first === null) return null;
  return units.every((u) => u !== null && u.id === first.id) ? first : null;
}

/**
 * The unit amounts of this rule are in, when the rule pins it down: by its assets (all in one
 * unit), or by protocols whose every asset is in one unit they share. A protocol with several
 * units (native coins and tokens) leaves amounts in base units unless the rule names its assets.
 */
export function ruleUnit(m: RuleMatch, words: PolicyWords): AssetUnit {
  if (m.assets !== null) return common(m.assets.map((a) => words.unitOfAsset(a))) ?? BASE_UNITS;
  if (m.protocols === null) return BASE_UNITS;
  return common(m.protocols.map((p) => words.protocolUnit(p))) ?? BASE_UNITS;
}

function conditions(m: RuleMatch, unit: AssetUnit, words: PolicyWords): string {
  const parts: string[] = [];
  if (m.assets !== null) parts.push(`of ${m.assets.length === 1 ? 'asset' : 'assets'} ${joinOr(m.assets)}`);
  for (const c of m.facets) parts.push(words.facetWords(c.facet, c.values));
  if (m.destinations !== null) parts.push(`to ${joinOr(m.destinations)}`);
  const show = (v: bigint) => unit.format(v);
  if (m.amountMin !== null && m.amountMax !== null)
    parts.push(`of ${show(m.amountMin)} to ${show(m.amountMax)}`);
  else if (m.amountMin !== null) parts.push(`of at least ${show(m.amountMin)}`);
  else if (m.amountMax !== null) parts.push(`of at most ${show(m.amountMax)}`);
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

function operators(n: number): string {
  return n === 1 ? '1 operator approves' : `${n} distinct operators approve`;
}

function verdict(rule: PolicyRule): string {
  if (rule.effect === 'allow') return 'are allowed';
  if (rule.effect === 'deny') return 'are denied';
  const delay = describeMs(rule.delayMs);
  if (rule.delayMs > 0 && rule.approvals > 0) {
    return `are held until ${operators(rule.approvals)} and ${delay} have passed (an operator may veto)`;
  }
  if (rule.delayMs > 0) return `are held for ${delay}, then released unless an operator vetoes them`;
  return `are held until ${operators(rule.approvals)}`;
}

/** What the rule's count limits count: its protocols' noun when they share one. */
function countNoun(m: RuleMatch, words: PolicyWords): string {
  const nouns = new Set((m.protocols ?? []).map((p) => words.countNoun(p)));
  const [only] = nouns;
  return m.protocols !== null && nouns.size === 1 && typeof only === 'string' ? only : 'operations';
}

function limitSentence(rule: PolicyRule, limit: PolicyLimit, unit: AssetUnit, words: PolicyWords): string {
  const caps: string[] = [];
  if (limit.maxCount !== null) caps.push(`${limit.maxCount} ${countNoun(rule.match, words)}`);
  if (limit.maxValue !== null) caps.push(unit.format(limit.maxValue));
  const scope = limit.perDestination ? ' to each destination' : '';
  return `Rule ${rule.id}: at most ${caps.join(' and ')}${scope} per ${describeWindow(limit.window)}.`;
}

function capitalize(s: string): string {
  return s.length === 0 ? s : `${s[0]?.toUpperCase()}${s.slice(1)}`;
}

function stripPeriod(s: string): string {
  return s.trim().replace(/[.!]+$/, '');
}

function ruleSentences(rule: PolicyRule, words: PolicyWords): string[] {
  const unit = ruleUnit(rule.match, words);
  const why = rule.description === null ? '' : ` (${stripPeriod(rule.description)})`;
  const out = [
    `Rule ${rule.id}: ${capitalize(subject(rule.match, words))}${conditions(rule.match, unit, words)} ${verdict(rule)}${why}.`,
  ];
  if (rule.maxPerTx !== null)
    out.push(`Rule ${rule.id}: at most ${unit.format(rule.maxPerTx)} per transaction.`);
  for (const cap of rule.caps) {
    const declared = words.cap(cap.name);
    const quantity = declared?.quantity ?? cap.name;
    const relative = declared?.relative;
    if (relative !== undefined) {
      // The amount is always known; a reference facet may not be (then the request is denied).
      const unknown =
        relative.reference === 'amount'
          ? ''
          : `, and a request is denied when ${relative.referenceWords} is unknown`;
      out.push(
        `Rule ${rule.id}: the ${quantity} may be at most ${relative.formatValue(cap.max)} of ${relative.referenceWords}${unknown}.`,
      );
      continue;
    }
    const max = declared === null ? String(cap.max) : declared.format(cap.max);
    out.push(`Rule ${rule.id}: the ${quantity} may be at most ${max}.`);
  }
  for (const limit of rule.limits) out.push(limitSentence(rule, limit, unit, words));
  if (rule.allowlist !== null) {
    out.push(
      rule.allowlist.length === 0
        ? `Rule ${rule.id}: no destination is allowed.`
        : `Rule ${rule.id}: only to ${joinOr(rule.allowlist)}.`,
    );
  }
  if (rule.denylist !== null && rule.denylist.length > 0) {
    out.push(`Rule ${rule.id}: never to ${joinOr(rule.denylist)}.`);
  }
  if (rule.newDestination === 'hold') {
    out.push(
      `Rule ${rule.id}: a first payment to a destination never paid before is held until 1 operator approves.`,
    );
  }
  if (rule.maxRiskScore !== null) {
    out.push(`Rule ${rule.id}: denied when the risk score is above ${rule.maxRiskScore}.`);
  }
  return out;
}

export function explainPolicy(policy: Policy): string[] {
  const out: string[] = [];
  out.push(
    policy.description === null
      ? `Policy ${policy.name}.`
      : `Policy ${policy.name}: ${stripPeriod(policy.description)}.`,
  );
  out.push(
    'Rules are checked in order and every matching rule applies: a deny beats a hold, a hold beats an allow, and every limit of every matching rule must hold.',
  );
  if (policy.rules.some((r) => r.maxPerTx !== null || r.limits.some((l) => l.maxValue !== null))) {
    // Fees are money: what every value limit counts, said once for the whole policy.
    out.push(policy.words.feesSentence);
  }
  if (policy.destinations.deny.length > 0) {
    out.push(`Never to ${joinOr(policy.destinations.deny)}, whatever the rules say.`);
  }
  if (policy.destinations.allow !== null) {
    out.push(
      policy.destinations.allow.length === 0
        ? 'No destination may be paid at all.'
        : `Only to ${joinOr(policy.destinations.allow)}, whatever the rules say.`,
    );
  }
  if (policy.newDestination === 'hold') {
    out.push('A first payment to a destination never paid before is held until 1 operator approves.');
  }
  const cap = policy.risk.maxScore ?? TOLERANCE_THRESHOLDS[policy.risk.tolerance];
  out.push(
    policy.risk.maxScore === null
      ? `Requests whose risk score is above ${cap} (risk tolerance ${policy.risk.tolerance}) are denied.`
      : `Requests whose risk score is above ${cap} are denied (risk tolerance ${policy.risk.tolerance}).`,
  );
  for (const rule of policy.rules) out.push(...ruleSentences(rule, policy.words));
  out.push('Anything no rule allows is denied.');
  return out;
}
