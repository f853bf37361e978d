/**
 * `get_budget` and the budget resource: what the identity has used and reserved, and, for a
 * request the agent has in mind, every window its rule counts it against (used, reserved, cap,
 * what remains, when enough frees up). The windows come from a dry run: a budget depends on the
 * request's asset and facets (its destination, its kind), so asking with the request is the only
 * honest answer, and the dry run computes it exactly as the next admission would.
 */
import { toJsonValue } from '../../core/json.ts';
import type { Principal } from '../../core/principal.ts';
import type { Gateway } from '../../gateway/gateway.ts';

interface JsonLimit {
  limit: string;
  measure: 'value' | 'count';
  used: string;
  reserved: string;
  request: string;
  cap: string;
  ok: boolean;
  perDestination: string | null;
  windowStart: string | null;
  freesAt: string | null;
}

interface JsonTrace {
  rule: string;
  matched: boolean;
  limits: JsonLimit[];
}

/** Totals per asset and ledger status: amounts and fees in base units (decimal text). */
export async function ledgerStatus(gateway: Gateway, principal: Principal) {
  const { totals } = await gateway.reads.ledger(principal);
  return totals.map((t) => ({
    asset: t.asset,
    status: t.status,
    amount: t.total.toString(),
    fees: t.fees.toString(),
    count: t.count,
  }));
}

/** The windows a request would count against, as the next admission would see them. */
export async function requestWindows(
  gateway: Gateway,
  principal: Principal,
  operation: string,
  request: unknown,
) {
  const dry = await gateway.requests.dryRun(principal, operation, request);
  const decision = dry.decision as unknown as {
    outcome: string;
    decidingRule: string | null;
    trail: JsonTrace[];
  };
  const windows = decision.trail
    .filter((t) => t.matched)
    .flatMap((t) =>
      t.limits.map((l) => {
        const left = BigInt(l.cap) - BigInt(l.used) - BigInt(l.reserved);
        return {
          rule: t.rule,
          limit: l.limit,
          measure: l.measure,
          used: l.used,
          reserved: l.reserved,
          cap: l.cap,
          remaining: (left > 0n ? left : 0n).toString(),
          thisRequest: l.request,
          passes: l.ok,
          perDestination: l.perDestination,
          windowStart: l.windowStart,
          freesAt: l.freesAt,
        };
      }),
    );
  return { outcome: decision.outcome, decidingRule: decision.decidingRule, windows };
}

export async function budget(
  gateway: Gateway,
  principal: Principal,
  ask?: { operation: string; request: unknown },
): Promise<Record<string, unknown>> {
  const ledger = await ledgerStatus(gateway, principal);
  const forRequest = ask ? await requestWindows(gateway, principal, ask.operation, ask.request) : null;
  return toJsonValue({ identity: principal.identity, ledger, forRequest }) as Record<string, unknown>;
}
