/**
 * Whether a rule's match conditions hold for a request (with the first condition that failed), and
 * whether a ledger entry falls under the same conditions (all but amount) for the rule's windows.
 */
import type { Intent } from '../core/intent.ts';
import { formatAmount } from './amount.ts';
import { normalizeDestinations } from './destination.ts';
import type { LedgerEntry } from './snapshot.ts';
import { facetNumber, facetText } from './snapshot.ts';
import type { PolicyRule, RuleMatch } from './types.ts';

const MAX_SHOWN = 5;

function showList(values: readonly (string | number)[]): string {
  const shown = values.slice(0, MAX_SHOWN).join(', ');
  return values.length > MAX_SHOWN ? `[${shown}, … ${values.length - MAX_SHOWN} more]` : `[${shown}]`;
}

function notIn(what: string, value: string | number, values: readonly (string | number)[]): string {
  return `${what} ${value} is not in ${showList(values)}`;
}

/** The intent's destinations in the policy's spelling. */
export function intentDestinations(intent: Intent): string[] {
  return normalizeDestinations(intent.destinations);
}

/**
 * Returns null when every condition holds, else the first failed condition in words.
 * Destinations: an allow or hold rule matches only when every destination of the request is listed
 * (so an extra output cannot ride on a listed one); a deny rule matches when any one is listed (so an
 * extra output cannot hide a denied one).
 */
export function matchIntent(
  rule: PolicyRule,
  intent: Intent,
  destinations: readonly string[],
): string | null {
  const m = rule.match;
  const common = matchCommon(m, {
    protocol: intent.protocol,
    action: intent.action,
    asset: intent.asset.toLowerCase(),
    kind: facetNumber(intent, 'kind'),
    chainId: facetNumber(intent, 'chain_id'),
    contract: facetText(intent, 'contract'),
    functionSelector: facetText(intent, 'function'),
  });
  if (common !== null) return common;
  if (m.destinations !== null) {
    if (destinations.length === 0) return 'request has no destination';
    const listed = new Set(m.destinations);
    if (rule.effect === 'deny') {
      if (!destinations.some((d) => listed.has(d))) {
        return destinations.length === 1
          ? notIn('destination', destinations[0] ?? '', m.destinations)
          : `no destination of the request is in ${showList(m.destinations)}`;
      }
    } else {
      const missing = destinations.find((d) => !listed.has(d));
      if (missing !== undefined) return notIn('destination', missing, m.destinations);
    }
  }
  if (m.amountMin !== null && intent.amount < m.amountMin) {
    return `amount ${formatAmount(intent.asset, intent.amount)} is below the minimum ${formatAmount(intent.asset, m.amountMin)}`;
  }
  if (m.amountMax !== null && intent.amount > m.amountMax) {
    return `amount ${formatAmount(intent.asset, intent.amount)} is above the maximum ${formatAmount(intent.asset, m.amountMax)}`;
  }
  return null;
}

interface Fields {
  protocol: string;
  action: string;
  asset: string;
  kind: number | null;
  chainId: number | null;
  contract: string | null;
  functionSelector: string | null;
}

function matchCommon(m: RuleMatch, f: Fields): string | null {
  if (m.protocols !== null && !m.protocols.some((p) => p === f.protocol)) {
    return notIn('protocol', f.protocol, m.protocols);
  }
  if (m.actions !== null && !m.actions.some((a) => a === f.action))
    return notIn('action', f.action, m.actions);
  if (m.assets !== null && !m.assets.includes(f.asset)) return notIn('asset', f.asset, m.assets);
  if (m.kinds !== null) {
    if (f.kind === null) return 'request has no Nostr kind';
    if (!m.kinds.includes(f.kind)) return notIn('kind', f.kind, m.kinds);
  }
  if (m.chainIds !== null) {
    if (f.chainId === null) return 'request has no EVM chain id';
    if (!m.chainIds.includes(f.chainId)) return notIn('chain id', f.chainId, m.chainIds);
  }
  if (m.contracts !== null) {
    if (f.contract === null) return 'request has no contract';
    if (!m.contracts.includes(f.contract)) return notIn('contract', f.contract, m.contracts);
  }
  if (m.functions !== null) {
    if (f.functionSelector === null) return 'request calls no function';
    if (!m.functions.includes(f.functionSelector)) return notIn('function', f.functionSelector, m.functions);
  }
  return null;
}

/**
 * Whether a ledger entry counts in the rule's windows: it must meet every match condition except the
 * amount. An entry with no single destination (null) meets a destination condition, conservatively.
 */
export function entryMatchesRule(
  rule: PolicyRule,
  entry: LedgerEntry,
  destinations: (d: string) => string,
): boolean {
  const m = rule.match;
  const common = matchCommon(m, {
    protocol: entry.protocol,
    action: entry.action,
    asset: entry.asset.toLowerCase(),
    kind: bookedNumber(entry, 'kind'),
    chainId: bookedNumber(entry, 'chain_id'),
    contract: bookedText(entry, 'contract'),
    functionSelector: bookedText(entry, 'function'),
  });
  if (common !== null) return false;
  if (m.destinations !== null && entry.destination !== null) {
    return m.destinations.includes(destinations(entry.destination));
  }
  return true;
}

function bookedNumber(entry: LedgerEntry, name: string): number | null {
  const v = entry.facets[name];
  return typeof v === 'number' ? v : null;
}

function bookedText(entry: LedgerEntry, name: string): string | null {
  const v = entry.facets[name];
  return typeof v === 'string' ? v.toLowerCase() : null;
}
