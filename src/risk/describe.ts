import type { CatalogEntry, Condition, Operation, SignalRule, SignalTest } from './catalog-types.ts';

/** A condition in words, as an operator reads the catalog. */
export function describeCondition(condition: Condition): string {
  switch (condition.type) {
    case 'amount-positive':
      return 'amount > 0';
    case 'amount-below':
      return `amount < ${condition.than}`;
    case 'amount-above':
      return `amount > ${condition.than}`;
    case 'has-destination':
      return 'at least one destination';
    case 'facet-in':
      return `${condition.facet} is one of ${condition.values.join(', ')} (or not known)`;
    case 'signal': {
      const unknown = condition.whenUnknown === true ? ' (or not known)' : '';
      return `signal ${condition.signal} ${condition.test === undefined ? 'is true' : describeTest(condition.test)}${unknown}`;
    }
  }
}

/** An operation in words: `<protocol> <actions> [when <conditions>]`. */
export function describeOperation(op: Operation): string {
  const actions = op.actions === undefined ? 'any action' : op.actions.join(' or ');
  const when = op.when ?? [];
  const conditions = when.length === 0 ? '' : ` when ${when.map(describeCondition).join(' and ')}`;
  return `${op.protocol} ${actions}${conditions}`;
}

function describeTest(test: SignalTest): string {
  switch (test.type) {
    case 'true':
      return 'true';
    case 'below':
      return `< ${test.than}`;
    case 'at-most':
      return `≤ ${test.than}`;
    case 'at-least':
      return `≥ ${test.than}`;
  }
}

/** A signal rule in words: `<signal> <test> +<steps>`, its tiers in order. */
export function describeSignalRule(rule: SignalRule): string {
  return rule.tiers.map((t) => `${rule.signal} ${describeTest(t.test)} +${t.steps}`).join(', else ');
}

/** Where a row applies and what raises it, one line. */
export function describeEntry(entry: CatalogEntry): string {
  const where = entry.appliesTo.map(describeOperation).join('; or ');
  const raised = (entry.raisedBy ?? []).map(describeSignalRule);
  return raised.length === 0 ? where : `${where}; raised by ${raised.join('; ')}`;
}
