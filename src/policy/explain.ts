/**
 * explainPolicy: the policy in plain language, one sentence per rule and per limit, amounts with
 * their unit where the asset is known. What operators read before they trust a policy.
 */
import type { IntentAction, Protocol } from '../core/intent.ts';
import { TOLERANCE_THRESHOLDS } from '../core/risk.ts';
import { type AssetUnit, ETH_NATIVE_CHAINS, formatAmountIn, formatGasPrice, unitOfAsset } from './amount.ts';
import { describeMs } from './describe.ts';
import { describeWindow } from './duration.ts';
import type { Policy, PolicyLimit, PolicyRule, RuleMatch } from './types.ts';

const PROTOCOL_NAME: Record<Protocol, string> = {
  nostr: 'Nostr',
  evm: 'EVM',
  bitcoin: 'Bitcoin',
  lightning: 'Lightning',
};
const ACTION_NOUN: Record<IntentAction, string> = {
  sign_event: 'event signatures',
  send: 'sends',
  call: 'contract calls',
  pay: 'payments',
};
/** The actions each protocol has (src/core/intent.ts). */
const PROTOCOL_ACTIONS: Record<Protocol, readonly IntentAction[]> = {
  nostr: ['sign_event'],
  evm: ['send', 'call'],
  bitcoin: ['send'],
  lightning: ['pay'],
};

export function joinOr(items: readonly string[], word = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}

function subject(m: RuleMatch): string {
  const protocols = m.protocols;
  const actions = m.actions;
  if (protocols === null && actions === null) return 'all requests';
  if (protocols === null)
    return joinOr(
      (actions ?? []).map((a) => ACTION_NOUN[a] ?? a),
      'and',
    );
  const phrases: string[] = [];
  for (const p of protocols) {
    const own = (PROTOCOL_ACTIONS[p] ?? []).filter((a) => actions === null || actions.includes(a));
    if (actions === null && own.length > 1) phrases.push(`${PROTOCOL_NAME[p] ?? p} requests`);
    else for (const a of own) phrases.push(`${PROTOCOL_NAME[p] ?? p} ${ACTION_NOUN[a] ?? a}`);
  }
  if (phrases.length === 0) {
    return `${joinOr(protocols.map((p) => PROTOCOL_NAME[p] ?? p))} ${joinOr((actions ?? []).map((a) => a))} requests (which do not exist)`;
  }
  return joinOr(phrases, 'and');
}

/**
 * The unit amounts of this rule are in, when the rule pins it down: by its assets, or by protocols
 * that have one asset (Bitcoin and Lightning: sat). An EVM rule without assets may match tokens, so
 * its amounts stay in base units.
 */
export function ruleUnit(m: RuleMatch): AssetUnit {
  if (m.assets !== null) {
    const units = m.assets.map(unitOfAsset);
    const first = units[0];
    if (first === undefined) return { kind: 'unknown' };
    if (units.length === 1) return first;
    return first.kind !== 'token' && units.every((u) => u.kind === first.kind) ? first : { kind: 'unknown' };
  }
  const protocols = m.protocols;
  if (protocols === null) return { kind: 'unknown' };
  if (protocols.every((p) => p === 'bitcoin' || p === 'lightning')) return { kind: 'sat' };
  if (protocols.every((p) => p === 'nostr')) return { kind: 'signature' };
  return { kind: 'unknown' };
}

function chainName(id: number): string {
  const name = ETH_NATIVE_CHAINS.get(id);
  return name === undefined ? String(id) : `${id} (${name})`;
}

function conditions(m: RuleMatch, unit: AssetUnit): string {
  const parts: string[] = [];
  if (m.assets !== null) parts.push(`of ${m.assets.length === 1 ? 'asset' : 'assets'} ${joinOr(m.assets)}`);
  if (m.kinds !== null) parts.push(`of kind ${joinOr(m.kinds.map(String))}`);
  if (m.chainIds !== null) parts.push(`on chain ${joinOr(m.chainIds.map(chainName))}`);
  if (m.contracts !== null) parts.push(`to contract ${joinOr(m.contracts)}`);
  if (m.functions !== null) parts.push(`calling function ${joinOr(m.functions)}`);
  if (m.destinations !== null) parts.push(`to ${joinOr(m.destinations)}`);
  const show = (v: bigint) => formatAmountIn(unit, v);
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

function countNoun(m: RuleMatch): string {
  const p = m.protocols;
  if (p?.every((x) => x === 'nostr')) return 'signatures';
  if (p !== null && !p.includes('nostr')) return 'transactions';
  return 'operations';
}

function limitSentence(rule: PolicyRule, limit: PolicyLimit, unit: AssetUnit): string {
  const caps: string[] = [];
  if (limit.maxCount !== null) caps.push(`${limit.maxCount} ${countNoun(rule.match)}`);
  if (limit.maxValue !== null) caps.push(formatAmountIn(unit, limit.maxValue));
  const scope = limit.perDestination ? ' to each destination' : '';
  return `Rule ${rule.id}: at most ${caps.join(' and ')}${scope} per ${describeWindow(limit.window)}.`;
}

function capitalize(s: string): string {
  return s.length === 0 ? s : `${s[0]?.toUpperCase()}${s.slice(1)}`;
}

function stripPeriod(s: string): string {
  return s.trim().replace(/[.!]+$/, '');
}

function ruleSentences(rule: PolicyRule): string[] {
  const unit = ruleUnit(rule.match);
  const why = rule.description === null ? '' : ` (${stripPeriod(rule.description)})`;
  const out = [
    `Rule ${rule.id}: ${capitalize(subject(rule.match))}${conditions(rule.match, unit)} ${verdict(rule)}${why}.`,
  ];
  if (rule.maxPerTx !== null)
    out.push(`Rule ${rule.id}: at most ${formatAmountIn(unit, rule.maxPerTx)} per transaction.`);
  if (rule.maxFeePerGas !== null) {
    out.push(`Rule ${rule.id}: the max fee per gas may be at most ${formatGasPrice(rule.maxFeePerGas)}.`);
  }
  for (const limit of rule.limits) out.push(limitSentence(rule, limit, unit));
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

/** Fees are money: what every value limit counts, said once for the whole policy. */
export const FEES_SENTENCE =
  'Value limits (per transaction and per window) count fees: a request counts its amount plus the most its fees can cost (EVM: gas limit × max fee per gas), and a payment made counts the fee it paid, or that worst case until the fee paid is known.';

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
    out.push(FEES_SENTENCE);
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
  for (const rule of policy.rules) out.push(...ruleSentences(rule));
  out.push('Anything no rule allows is denied.');
  return out;
}
