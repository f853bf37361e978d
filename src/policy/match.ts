/**
 * Whether a rule's match conditions hold for a request (with the first condition that failed), and
 * whether a ledger entry falls under the same conditions (all but amount) for the rule's windows.
 * Facets are compared as their conditions say (type, case); the order of the checks is protocol,
 * action, asset, the facets in the language's order, opt-in facets, destination, amount.
 */
import type { Facets, Intent } from '../core/intent.ts';
import { normalizeDestinations } from './destination.ts';
import { facetValue, isOptInValue } from './facet-value.ts';
import type { LedgerEntry, LedgerFacets } from './snapshot.ts';
import type { OptInFacet, PolicyRule, RuleMatch } from './types.ts';
import type { PolicyWords } from './words.ts';

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

interface Fields {
  protocol: string;
  action: string;
  asset: string;
  facets: Facets | LedgerFacets | undefined;
}

function matchCommon(m: RuleMatch, f: Fields): string | null {
  if (m.protocols !== null && !m.protocols.some((p) => p === f.protocol)) {
    return notIn('protocol', f.protocol, m.protocols);
  }
  if (m.actions !== null && !m.actions.some((a) => a === f.action))
    return notIn('action', f.action, m.actions);
  if (m.assets !== null && !m.assets.includes(f.asset)) return notIn('asset', f.asset, m.assets);
  for (const condition of m.facets) {
    const value = facetValue(f.facets, condition);
    if (value === null) return condition.missing;
    if (!condition.values.includes(value)) return notIn(condition.label, value, condition.values);
  }
  return null;
}

/**
 * An allow or hold rule lets a request with an opt-in value through only when its own match names
 * that facet (and then its condition has already checked the value). A deny rule needs no name.
 */
function matchOptIn(rule: PolicyRule, optIn: readonly OptInFacet[], facets: Facets): string | null {
  if (rule.effect === 'deny') return null;
  for (const o of optIn) {
    if (rule.match.facets.some((c) => c.facet === o.facet)) continue;
    const value = facetValue(facets, o);
    if (value !== null && isOptInValue(o.values, value)) {
      return `${o.label} ${value} is matched only by a rule that names it (match: { ${o.facet}: ${value} })`;
    }
  }
  return null;
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
  optIn: readonly OptInFacet[],
  words: PolicyWords,
): string | null {
  const m = rule.match;
  const common =
    matchCommon(m, {
      protocol: intent.protocol,
      action: intent.action,
      asset: intent.asset.toLowerCase(),
      facets: intent.facets,
    }) ?? matchOptIn(rule, optIn, intent.facets);
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
  const show = (v: bigint) => words.formatAmount(intent.asset, v);
  if (m.amountMin !== null && intent.amount < m.amountMin) {
    return `amount ${show(intent.amount)} is below the minimum ${show(m.amountMin)}`;
  }
  if (m.amountMax !== null && intent.amount > m.amountMax) {
    return `amount ${show(intent.amount)} is above the maximum ${show(m.amountMax)}`;
  }
  return null;
}

/**
 * Whether a ledger entry counts in the rule's windows: it must meet every match condition except the
 * amount; an entry without a facet the rule conditions on does not. An entry with no single
 * destination (null) meets a destination condition, conservatively. Opt-in facets do not take an
 * entry out of a window: they decide which rules may allow a request, not which budgets it spent.
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
    facets: entry.facets,
  });
  if (common !== null) return false;
  if (m.destinations !== null && entry.destination !== null) {
    return m.destinations.includes(destinations(entry.destination));
  }
  return true;
}
