/**
 * A principal's own budget inside its identity's (core/principal.ts PrincipalBudget: an NWC
 * connection's `--budget 10000sat/day`), judged by the same evaluator over the same ledger
 * snapshot as the identity's policy, in the same admission transaction, so it is exact under
 * concurrency and restarts like every budget:
 *
 * - the principal's intents carry its scope as the `principal` facet, which the ledger keeps on
 *   their entries;
 * - one more policy, of a single rule matching that facet (and the budget's asset) with the
 *   budget's window limit, is evaluated after the identity's. It adds no permission: the identity's
 *   decision stands unless this rule's limit denies; then its denial (LIMIT_EXCEEDED, the rule
 *   named `principal:<scope>`) is the decision.
 */
import type { Decision } from '../core/decision.ts';
import { WardenError } from '../core/errors.ts';
import type { Intent } from '../core/intent.ts';
import type { Principal, PrincipalBudget } from '../core/principal.ts';
import { type Policy, type PolicyRule, parseWindow } from '../policy/index.ts';

export const PRINCIPAL_FACET = 'principal';

/** The rule id a principal's budget is named by in decisions and traces. */
export const principalRuleId = (scope: string) => `principal:${scope}`;

/** The intent as the principal submits it: tagged with its scope when it has a budget of its own. */
export function scopedIntent(intent: Intent, principal: Principal): Intent {
  if (!principal.budget) return intent;
  return { ...intent, facets: { ...intent.facets, [PRINCIPAL_FACET]: principal.budget.scope } };
}

/**
 * One frozen Policy per budget (and words), kept: the budget windows index a rule's matcher by its
 * match object, so the same object on every request keeps the check's cost flat.
 */
const policies = new Map<string, { words: Policy['words']; policy: Policy }>();
const MAX_KEPT = 4096;

export function budgetPolicy(budget: PrincipalBudget, words: Policy['words']): Policy {
  const key = `${budget.scope}\u0000${budget.asset}\u0000${budget.maxValue}\u0000${budget.window}`;
  const kept = policies.get(key);
  if (kept && kept.words === words) return kept.policy;
  const window = parseWindow(budget.window);
  if (!window || budget.maxValue < 0n)
    throw new WardenError('INVALID_ARGUMENT', 'a principal budget needs a policy window and an amount', {
      window: budget.window,
    });
  const rule: PolicyRule = {
    id: principalRuleId(budget.scope),
    index: 0,
    description: 'this connection’s own budget',
    match: {
      protocols: null,
      actions: null,
      assets: [budget.asset],
      destinations: null,
      amountMin: null,
      amountMax: null,
      facets: [
        {
          facet: PRINCIPAL_FACET,
          type: 'text',
          lowerCase: false,
          label: 'principal',
          values: [budget.scope],
          missing: 'not submitted by this principal',
        },
      ],
    },
    effect: 'allow',
    approvals: 0,
    delayMs: 0,
    maxPerTx: null,
    caps: [],
    limits: [{ window, maxValue: budget.maxValue, maxCount: null, perDestination: false }],
    allowlist: null,
    denylist: null,
    newDestination: null,
    maxRiskScore: null,
  };
  const policy = Object.freeze<Policy>({
    version: 1,
    name: principalRuleId(budget.scope),
    description: null,
    // Risk was judged by the identity's policy; this one only counts.
    risk: { tolerance: 'high', maxScore: Number.MAX_SAFE_INTEGER },
    destinations: { allow: null, deny: [] },
    newDestination: 'allow',
    rules: [rule],
    optIn: [],
    words,
  });
  if (policies.size >= MAX_KEPT) policies.delete(policies.keys().next().value as string);
  policies.set(key, { words, policy });
  return policy;
}

/**
 * The decision of a request judged by its identity's policy and then by its principal's budget:
 * the identity's, unless it would pass and the budget denies. A request of another asset than the
 * budget's is not counted by it (the rule does not match: its evaluation would deny for want of an
 * allowing rule, which is not the budget's business).
 */
export function withinPrincipalBudget(identity: Decision, budget: Decision): Decision {
  if (identity.outcome === 'deny') return identity;
  if (budget.outcome !== 'deny' || budget.code === 'NO_MATCHING_RULE') return identity;
  return budget;
}
