/**
 * The smallest value any rule of a policy gives a cap, whatever the rule matches: a bound an
 * operation can stay within before it is judged. A module that chooses a quantity itself (a
 * Bitcoin send's amount jitter) draws it under this bound, so that no matching rule's cap can
 * refuse what it chose, whichever rules the chosen request then matches (matching may depend on
 * the quantity chosen: an amount range). Null when no rule sets the cap.
 */
import type { Policy } from './types.ts';

export function tightestCap(policy: Policy, name: string): bigint | null {
  let least: bigint | null = null;
  for (const rule of policy.rules)
    for (const cap of rule.caps)
      if (cap.name === name && (least === null || cap.max < least)) least = cap.max;
  return least;
}
