/**
 * How the gateway's answers become MCP tool results. A denial, a failure or a refused call
 * (bad input, rate limit, wrong identity) is a tool result with `isError` the model can read and
 * act on, never a protocol error: the code, the rule, the numbers and what would pass. A held
 * request is not an error: it says why, who must act and how to wait.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { LimitCheck, RuleTrace } from '../../core/decision.ts';
import { asWardenError, type WardenError } from '../../core/errors.ts';
import { toJsonValue } from '../../core/json.ts';
import { HOLD_EXPIRY_MS } from '../../gateway/index.ts';
import type { RequestView } from '../../gateway/requests.ts';
import type { RegisteredOperation } from '../../protocols/registry.ts';

/** The statuses a tool answers without `isError`: signed, or still on its way. */
export const PENDING_OR_DONE = ['done', 'held', 'scheduled', 'executing', 'unknown'] as const;

interface HoldView {
  approvals: number;
  delaySeconds: number;
  reasons: string[];
  rule: string | null;
  expiresAt: string;
}

/** Who must act on a hold: operators, a delay, or both. */
function holdActors(hold: HoldView): string {
  const delay = hold.delaySeconds > 0 ? `a delay of ${hold.delaySeconds} s without a veto` : '';
  if (hold.approvals === 0) return `${delay || 'an operator'} must pass`;
  const who = `A human operator must approve this request${hold.approvals > 1 ? ` (${hold.approvals} distinct operators)` : ''}`;
  return delay ? `${who}, and then ${delay} must pass` : who;
}

/** What the agent is told to do next for a request that is not finished (who acts, how to wait). */
function nextStep(status: string, id: string, hold: HoldView | null): string | undefined {
  if (status === 'held' && hold)
    return `${holdActors(hold)}; nothing happens until then, and the hold closes unapproved at ${hold.expiresAt}. Tell your user: an operator reviews it with \`warden approvals show ${id}\` and decides with \`warden approvals approve ${id}\` or \`deny\`. Call wait_for_request with this requestId to follow it to its end.`;
  if (status === 'scheduled')
    return 'Allowed, and held back by a random delay (timing jitter) so its timing says less about you; it is sent at scheduledFor. Call wait_for_request with this requestId for the result.';
  if (status === 'executing')
    return 'Being executed now: call wait_for_request with this requestId for the result.';
  if (status === 'unknown')
    return 'It may or may not have happened (the network did not answer in time). Do not send it again under a new idempotency key; call get_request later, an operator reconciles it.';
  return undefined;
}

/** Structured, and as one JSON text for clients that only show text. */
function structured(value: Record<string, unknown>, summary: string): CallToolResult {
  const json = toJsonValue(value) as Record<string, unknown>;
  return {
    content: [
      { type: 'text', text: summary },
      { type: 'text', text: JSON.stringify(json) },
    ],
    structuredContent: json,
  };
}

/** An error result: the sentence first, then the details as JSON (no structuredContent: see below). */
function errorResult(error: Record<string, unknown>, summary: string): CallToolResult {
  // structuredContent would have to match the tool's output schema (clients validate it even
  // on errors), so the error's details travel as text the model reads.
  return {
    isError: true,
    content: [
      { type: 'text', text: summary },
      { type: 'text', text: JSON.stringify(toJsonValue({ error })) },
    ],
  };
}

interface DecisionLike {
  outcome?: string;
  code?: string;
  reason?: string;
  decidingRule?: string | null;
  remedy?: string | null;
  hold?: { approvals: number; delaySeconds: number; reasons: string[] } | null;
  trail?: RuleTrace[];
}

/** The limits that refused the request (the numbers behind a LIMIT_EXCEEDED), with their rule. */
function failedLimits(decision: DecisionLike): (LimitCheck & { rule: string })[] {
  return (decision.trail ?? []).flatMap((t) =>
    t.limits.filter((l) => !l.ok).map((l) => ({ rule: t.rule, ...l })),
  );
}

/** "Done: …" in the words of what the operation does: signed, sent, or simply done (a read). */
function doneSentence(id: string, op: Pick<RegisteredOperation, 'signer' | 'execute'> | undefined): string {
  if (op === undefined || op.signer === 'none') return `Done: request ${id} is done.`;
  return `Done: request ${id} was ${op.execute === undefined ? 'signed' : 'sent'}.`;
}

/** Why a request that was held did not happen, and what the agent may do about it. */
const CLOSED_HOLDS: Record<string, { message: string; remedy: string }> = {
  REQUEST_VETOED: {
    message: 'an operator denied this request; nothing was signed or sent',
    remedy: 'ask your user why before asking again; the same request will be held again',
  },
  HOLD_EXPIRED: {
    message: `no operator approved this request within ${HOLD_EXPIRY_MS / 86_400_000} days of its hold; nothing was signed or sent`,
    remedy: 'submit it again if it is still wanted, and tell your user it needs an approval',
  },
};

/**
 * A request as a tool result, whichever tool asked (an operation, get_request, wait_for_request);
 * `op` is the operation it is of, for the words of its result.
 */
export function requestResult(
  view: RequestView,
  op?: Pick<RegisteredOperation, 'signer' | 'execute'>,
): CallToolResult {
  const decision = (view.decision ?? {}) as DecisionLike;
  const common = {
    requestId: view.requestId,
    status: view.status,
    operation: `${view.protocol}.${view.action}`,
    identity: view.identity,
  };
  if ((PENDING_OR_DONE as readonly string[]).includes(view.status)) {
    const delaySeconds = view.hold?.delaySeconds ?? 0;
    const hold: HoldView | null =
      view.status === 'held'
        ? {
            approvals: view.hold?.approvals ?? 0,
            delaySeconds,
            reasons: decision.hold?.reasons ?? [],
            rule: decision.decidingRule ?? null,
            expiresAt: new Date(
              Date.parse(view.createdAt) + HOLD_EXPIRY_MS + delaySeconds * 1000,
            ).toISOString(),
          }
        : null;
    const next = nextStep(view.status, view.requestId, hold);
    const summary =
      view.status === 'done'
        ? doneSentence(view.requestId, op)
        : view.status === 'held'
          ? `Held: request ${view.requestId} needs ${describeHold(hold!)} (${decision.reason ?? 'the policy holds it'}).`
          : `Request ${view.requestId} is ${view.status}.`;
    return structured(
      {
        ...common,
        result: view.status === 'done' ? view.result : null,
        hold,
        ...(view.scheduledFor ? { scheduledFor: view.scheduledFor } : {}),
        ...(view.error ? { error: view.error } : {}),
        ...(next ? { next } : {}),
      },
      next ? `${summary} ${next}` : summary,
    );
  }
  const closed = view.error ? CLOSED_HOLDS[view.error.code] : undefined;
  if (view.status === 'denied' && closed) {
    const code = view.error!.code;
    return errorResult(
      {
        code,
        message: closed.message,
        rule: decision.decidingRule ?? null,
        remedy: closed.remedy,
        ...common,
      },
      `Denied (${code}): ${closed.message}. ${closed.remedy}.`,
    );
  }
  if (view.status === 'denied') {
    const code = view.error?.code ?? decision.code ?? 'POLICY_DENIED';
    const rule = decision.decidingRule ?? null;
    const reason = decision.reason ?? 'denied by policy';
    return errorResult(
      {
        code,
        message: reason,
        rule,
        remedy: decision.remedy ?? null,
        limits: failedLimits(decision),
        ...common,
      },
      `Denied (${code}${rule ? `, rule ${rule}` : ''}): ${reason}${decision.remedy ? ` What would pass: ${decision.remedy}` : ''}`,
    );
  }
  const code = view.error?.code ?? 'INTERNAL';
  return errorResult(
    { code, message: 'the request failed', ...common },
    `Failed (${code}): request ${view.requestId} did not happen; its reservation was released.`,
  );
}

function describeHold(hold: HoldView): string {
  const parts: string[] = [];
  if (hold.approvals > 0) parts.push(`${hold.approvals} operator approval${hold.approvals === 1 ? '' : 's'}`);
  if (hold.delaySeconds > 0) parts.push(`a delay of ${hold.delaySeconds} s without a veto`);
  return parts.join(' and ') || 'an operator';
}

/**
 * A refused call (bad input, rate limited, forbidden, not found) as a tool result. Internal errors
 * say only that: their message and details stay in the server's log.
 */
export function refusalResult(err: unknown): CallToolResult {
  const e: WardenError = asWardenError(err);
  const internal = e.code === 'INTERNAL';
  const message = internal ? 'internal error' : e.message;
  const details = internal ? {} : e.details;
  const retry =
    e.code === 'RATE_LIMITED' ? ` Retry after ${String(e.details.retryAfterSeconds ?? 1)} s.` : '';
  return errorResult({ code: e.code, message, details }, `Refused (${e.code}): ${message}.${retry}`);
}

/** A plain structured answer (dry run, budget, identity). */
export function dataResult(value: Record<string, unknown>, summary: string): CallToolResult {
  return structured(value, summary);
}
