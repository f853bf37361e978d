import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { visibleJson, visibleText } from '../../core/display.ts';
import { WardenError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import {
  type Gateway,
  type HeldRequest,
  REQUEST_FILTERS,
  type RequestFilter,
  type ReviewedRequest,
} from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { withCliGateway } from './config-flags.ts';
import { localOperator } from './local-operator.ts';

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

function operationOf(r: ReviewedRequest): string {
  return r.review?.operation ?? `${r.protocol}/${r.action}`;
}

/** One table: a header row, then one tab-separated row per request, every cell made visible. */
function requestTable<R extends ReviewedRequest>(
  stateHeader: string,
  rows: R[],
  state: (r: R) => string,
): string[] {
  return [
    ['ID', 'IDENTITY', 'OPERATION', 'AGE', 'INTENT', stateHeader, 'SUMMARY'].join('\t'),
    ...rows.map((r) =>
      [r.requestId, r.identity, operationOf(r), age(r.ageSeconds), r.shortIntentHash, state(r), r.summary]
        .map(visibleText)
        .join('\t'),
    ),
  ];
}

function listedStatus(r: ReviewedRequest): string {
  return `${r.status}${r.error ? ` (${r.error.code})` : ''}${r.acceptable ? ', risk acceptable' : ''}`;
}

function heldState(h: HeldRequest): string {
  if (h.state === 'waiting_approvals') return `needs ${h.remainingApprovals} more approval(s)`;
  if (h.state === 'waiting_delay') return `released at ${h.releaseAt}`;
  return h.state;
}

/** Every field of the payload, one per line; arrays (tags) one item per line. JSON, made visible. */
function payloadLines(payload: unknown): string[] {
  if (payload === null || typeof payload !== 'object') return [`  ${visibleJson(payload)}`];
  return Object.entries(payload as Record<string, unknown>).flatMap(([key, value]) =>
    Array.isArray(value)
      ? [`  ${key} (${value.length}):`, ...value.map((item) => `    ${visibleJson(item)}`)]
      : [`  ${key}: ${visibleJson(value)}`],
  );
}

function reviewLines(r: ReviewedRequest): string[] {
  const decision = r.decision as { outcome?: string; code?: string; reason?: string } | null;
  return [
    `request    ${r.requestId}`,
    `identity   ${r.identity}`,
    `operation  ${operationOf(r)}`,
    `status     ${r.status}${r.error ? ` (${r.error.code})` : ''}, asked ${age(r.ageSeconds)} ago${r.expiresAt ? `, expires ${r.expiresAt}` : ''}`,
    `decision   ${decision?.outcome ?? '?'} (${decision?.code ?? '?'}): ${visibleText(decision?.reason ?? '')}`,
    `summary    ${visibleText(r.summary)}`,
    `intent hash ${r.intentHash}`,
    ...(r.review
      ? ['payload (as it will be signed):', ...payloadLines(r.review.payload)]
      : ['payload: not kept (nothing of it can be signed any more)']),
  ];
}

function showLines(h: HeldRequest): string[] {
  const lines = reviewLines(h);
  if (h.status === 'held') {
    lines.push(`hold       ${heldState(h)}`);
    for (const a of h.approvals)
      lines.push(
        `  ${a.verdict} by ${visibleText(a.operator)} at ${a.at}${a.reason ? `: ${visibleText(a.reason)}` : ''}${a.forged ? ' (FORGED: written without the vault key; it does not count)' : ''}`,
      );
    if (h.reviewable)
      lines.push(
        `to approve exactly this: warden approvals approve ${h.requestId} --intent-hash ${h.intentHash}`,
      );
  }
  if (h.acceptable)
    lines.push(
      `to accept its risk: warden approvals accept-risk ${h.requestId} --intent-hash ${h.intentHash} --reason TEXT`,
    );
  if (!h.reviewable && h.review) lines.push('WARNING: the payload does not match its intent hash: deny it');
  lines.push(
    'the intent hash is SHA-256 of the canonical JSON of "review" in --json output (docs/approvals.md)',
  );
  return lines;
}

/** What became of a request after a decision, in words: signed, sent, queued, or still waiting. */
export function outcomeLine(h: HeldRequest): string {
  const result = h.result as { txHash?: string; event?: { id?: string } } | null;
  switch (h.status) {
    case 'done':
      if (result?.txHash) return `${h.requestId}: sent, transaction ${result.txHash}`;
      if (result?.event?.id) return `${h.requestId}: signed, event ${result.event.id}`;
      return `${h.requestId}: done`;
    case 'held':
      if (h.state === 'ready')
        return `${h.requestId}: released and queued for the running server (warden start), which executes it within a second; follow it with: warden requests show ${h.requestId}`;
      return `${h.requestId}: recorded; still held: ${heldState(h)}`;
    case 'scheduled':
      return `${h.requestId}: scheduled, sent at ${h.scheduledFor} (timing jitter)`;
    case 'executing':
      return `${h.requestId}: executing`;
    case 'denied':
      return `${h.requestId}: denied (${h.error?.code ?? 'POLICY_DENIED'})`;
    default:
      return `${h.requestId}: ${h.status}${h.error ? ` (${h.error.code})` : ''}`;
  }
}

/** Follows a request until the running server has executed it, or `seconds` have passed. */
async function waitForServer(
  gateway: Gateway,
  operator: Principal,
  requestId: string,
  seconds: number,
): Promise<HeldRequest> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const view = await gateway.approvals.show(operator, requestId);
    const pending =
      view.status === 'executing' ||
      view.status === 'scheduled' ||
      (view.status === 'held' && view.state === 'ready');
    if (!pending || Date.now() >= deadline) return view;
    await sleep(250);
  }
}

/** `approvals show` and `requests show`: one request as an approver reviews it. */
export async function show(ctx: CliContext, command: Command): Promise<void> {
  await withCliGateway(ctx, command.opts().passphraseFile, async (gateway, w) => {
    const view = await gateway.approvals.show(localOperator(gateway, w), command.args[0]!);
    ctx.print(showLines(view), view);
  });
}

export async function list(ctx: CliContext, command: Command): Promise<void> {
  await withCliGateway(ctx, command.opts().passphraseFile, async (gateway, w) => {
    const held = await gateway.approvals.list(localOperator(gateway, w));
    ctx.print(held.length === 0 ? 'no held requests' : requestTable('STATE', held, heldState), held);
  });
}

async function decide(ctx: CliContext, command: Command, verdict: 'approve' | 'deny'): Promise<void> {
  const o = command.opts();
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const id = command.args[0]!;
    const operator = localOperator(gateway, w);
    await gateway.approvals.decide(operator, id, verdict, o.reason ?? null, o.intentHash ?? null);
    const view = await waitForServer(gateway, operator, id, o.wait ?? 0);
    ctx.print(outcomeLine(view), view);
  });
}

export function approve(ctx: CliContext, command: Command): Promise<void> {
  return decide(ctx, command, 'approve');
}

export function deny(ctx: CliContext, command: Command): Promise<void> {
  return decide(ctx, command, 'deny');
}

export async function acceptRisk(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const id = command.args[0]!;
    const operator = localOperator(gateway, w);
    await gateway.approvals.acceptRisk(operator, id, o.reason, o.intentHash ?? null);
    const view = await waitForServer(gateway, operator, id, o.wait ?? 0);
    ctx.print(outcomeLine(view), view);
  });
}

export async function listRequests(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  if (o.status !== undefined && !(REQUEST_FILTERS as readonly string[]).includes(o.status))
    throw new WardenError('USAGE', `--status is one of ${REQUEST_FILTERS.join(', ')}`);
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const found = await gateway.reads.requests(localOperator(gateway, w), {
      ...(o.status === undefined ? {} : { status: o.status as RequestFilter }),
      ...(o.identity === undefined ? {} : { identity: o.identity }),
      ...(o.limit === undefined ? {} : { limit: o.limit }),
    });
    ctx.print(found.length === 0 ? 'no requests' : requestTable('STATUS', found, listedStatus), found);
  });
}
