import type { Intent } from '../core/intent.ts';
import type { CatalogEntry, Condition, Operation } from './catalog.ts';
import type { MonitorSignals } from './signals.ts';

/**
 * Whether one condition holds for the intent. A condition on a field the intent does not carry
 * (no `nostr` / `evm` block) holds: an unknown kind or selector is assumed to be the risky one.
 */
export function conditionHolds(
  condition: Condition,
  intent: Intent,
  signals: MonitorSignals | undefined,
): boolean {
  switch (condition.type) {
    case 'amount-positive':
      return intent.amount > 0n;
    case 'has-destination':
      return intent.destinations.length > 0;
    case 'nostr-kind': {
      const kind = intent.facets.kind;
      return typeof kind !== 'number' || condition.kinds.includes(kind);
    }
    case 'evm-selector': {
      if (!('function' in intent.facets)) return true;
      const selector = intent.facets.function;
      return typeof selector === 'string' && condition.selectors.includes(selector.toLowerCase());
    }
    case 'signal':
      return signals?.[condition.signal] === true;
  }
}

export function operationMatches(
  op: Operation,
  intent: Intent,
  signals: MonitorSignals | undefined,
): boolean {
  if (op.protocol !== intent.protocol) return false;
  if (op.actions !== undefined && !op.actions.includes(intent.action)) return false;
  return (op.when ?? []).every((c) => conditionHolds(c, intent, signals));
}

/** A catalog entry applies when any of its operations matches the intent. */
export function entryApplies(
  entry: CatalogEntry,
  intent: Intent,
  signals: MonitorSignals | undefined,
): boolean {
  return entry.appliesTo.some((op) => operationMatches(op, intent, signals));
}
