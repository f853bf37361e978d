import { setTimeout as sleep } from 'node:timers/promises';
import { WardenError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import type { GatewayContext } from '../context.ts';
import type { Operations } from '../operations.ts';
import { type Pipeline, requireAgent } from '../pipeline.ts';
import { principalStillValid } from '../principal-state.ts';
import { getRequestRow, loadRequestView, type RequestView } from '../requests.ts';
import type { Access } from './access.ts';

/** Concurrent long-polls (`?wait=`) one token may hold open. */
export const MAX_WAITS_PER_TOKEN = 8;

/** The one path as front doors call it: submit, dry run, and follow a request to its end. */
export class RequestService {
  readonly #waits = new Map<string, number>();
  #closed = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly access: Access,
    private readonly operations: Operations,
    private readonly pipeline: Pipeline,
  ) {}

  async submit(
    principal: Principal,
    operation: string,
    body: unknown,
    identity?: string,
  ): Promise<RequestView> {
    if (principal.role === 'agent') this.access.scope(principal, identity);
    const op = this.operations.get(operation);
    requireAgent(principal, op.capability);
    this.access.limit(principal, op.name);
    return this.pipeline.submit(principal, op, body);
  }

  /** Would this pass, and why: the path up to policy, writing nothing. Agents for their own identity. */
  async dryRun(principal: Principal, operation: string, body: unknown, identity?: string) {
    const target = this.access.scope(principal, identity);
    const op = this.operations.get(operation);
    if (principal.role === 'agent') requireAgent(principal, op.capability);
    this.access.limit(principal, `dry-run.${op.name}`);
    return this.pipeline.dryRun(target, op, body);
  }

  /** A request's state; with `waitSeconds`, held open until it is no longer pending (at most 60 s). */
  async get(principal: Principal, requestId: string, waitSeconds = 0): Promise<RequestView> {
    this.access.limit(principal, 'read.request');
    const waiting = this.#waits.get(principal.tokenId) ?? 0;
    if (waitSeconds > 0 && waiting >= MAX_WAITS_PER_TOKEN) {
      throw new WardenError('RATE_LIMITED', `at most ${MAX_WAITS_PER_TOKEN} waits per token at once`, {
        operation: 'read.wait',
      });
    }
    // A wait holds what was authenticated when it began: MCP's wait_for_request chains these for
    // minutes, so each one asks again whether the token was revoked (or expired) since.
    if (
      waitSeconds > 0 &&
      principal.actor === undefined &&
      !(await principalStillValid(this.ctx.store.db, principal.tokenId, this.ctx.clock.now()))
    )
      throw new WardenError('UNAUTHENTICATED', 'the token was revoked or has expired');
    this.#waits.set(principal.tokenId, waiting + 1);
    try {
      // Real time, not the gateway clock: this is how long the caller's connection is held.
      const deadline = Date.now() + Math.min(Math.max(waitSeconds, 0), 60) * 1000;
      for (;;) {
        const row = await getRequestRow(this.ctx.store.db, requestId);
        if (principal.role === 'agent' && row.identity !== principal.identity) {
          throw new WardenError('FORBIDDEN', 'this request belongs to another identity');
        }
        const pending = row.status === 'held' || row.status === 'executing';
        if (!pending || Date.now() >= deadline || this.#closed)
          return loadRequestView(this.ctx.store.db, row);
        await sleep(250);
      }
    } finally {
      const left = (this.#waits.get(principal.tokenId) ?? 1) - 1;
      if (left === 0) this.#waits.delete(principal.tokenId);
      else this.#waits.set(principal.tokenId, left);
    }
  }

  /** Ends long-polls and waits for executions in flight to settle (shutdown). */
  async drain(): Promise<void> {
    this.#closed = true;
    await this.pipeline.drain();
  }
}
