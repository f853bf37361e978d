import type { Intent } from '../core/intent.ts';
import type { CatalogEntry, Condition, ListedFacetValue, Operation } from './catalog-types.ts';
import { IS_TRUE, type MonitorSignals, signalPasses } from './signals.ts';

function listed(values: readonly ListedFacetValue[], value: unknown): boolean {
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    return values.some((v) => typeof v === 'string' && v.toLowerCase() === lower);
  }
  return typeof value === 'number' && values.includes(value);
}

/**
 * Whether one condition holds for the intent. A facet condition on a facet the intent does not
 * carry at all holds (an unknown value is assumed to be the risky one); on a facet that is present
 * but null, it does not (the request has none).
 */
export function conditionHolds(
  condition: Condition,
  intent: Intent,
  signals: MonitorSignals | undefined,
): boolean {
  switch (condition.type) {
    case 'amount-positive':
      return intent.amount > 0n;
    case 'amount-below':
      return intent.amount < condition.than;
    case 'amount-above':
      return intent.amount > condition.than;
    case 'has-destination':
      return intent.destinations.length > 0;
    case 'facet-in': {
      if (!Object.hasOwn(intent.facets, condition.facet)) return true;
      const value = intent.facets[condition.facet];
      return value !== null && listed(condition.values, value);
    }
    case 'signal': {
      const known =
        typeof signals === 'object' && signals !== null && Object.hasOwn(signals, condition.signal);
      if (!known) return condition.whenUnknown === true;
      return signalPasses(condition.test ?? IS_TRUE, signals[condition.signal]);
    }
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
