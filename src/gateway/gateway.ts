import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isWardenError, WardenError } from '../core/errors.ts';
import { toJsonValue } from '../core/json.ts';
import { actorOf, type Principal } from '../core/principal.ts';
import { explainPolicy } from '../policy/index.ts';
import { Approvals } from './approvals.ts';
import { AuthFailureThrottle, DEFAULT_AUTH_THROTTLE } from './auth-throttle.ts';
import type { GatewayContext } from './context.ts';
import { ledgerTotals, listLedger } from './ledger.ts';
import { LedgerCache } from './ledger-cache.ts';
import { Operations, type ProtocolConfig } from './operations.ts';
import { Pipeline, requireAgent } from './pipeline.ts';
import { loadPolicy } from './policies.ts';
import { type RateLimit, SlidingWindowLimiter } from './rate-limit.ts';
import { type HeldRequest, Reads, type RequestFilter, type ReviewedRequest } from './reads.ts';
import { getRequestRow, type RequestView, requestView } from './requests.ts';
import { authenticate, presentedTokenId } from './tokens.ts';
import type { Warden } from './warden.ts';

export interface GatewayOptions {
  logger: Logger;
  /** Each protocol module's configuration (`evm: { rpcUrls }`); a module without one has no backend. */
  protocols?: ProtocolConfig;
  rateLimits?: (operation: string) => RateLimit;
  /** How failed authentications are slowed down (delays, bounds); limits come from rateLimits. */
  authThrottle?: Partial<typeof DEFAULT_AUTH_THROTTLE>;
  /** Whether this process executes released holds (the server); false for the CLI. Default true. */
  executeApprovals?: boolean;
}

/** Concurrent long-polls (`?wait=`) one token may hold open. */
export const MAX_WAITS_PER_TOKEN = 8;

/** Default sliding-window limits per token and operation. */
export function defaultRateLimits(operation: string): RateLimit {
  // Failed authentications: per presented token id, and in total (see AuthFailureThrottle).
  if (operation === 'auth.failure') return { max: 10, windowMs: 60_000 };
  if (operation === 'auth.failure.global') return { max: 100, windowMs: 60_000 };
  if (operation.startsWith('read.')) return { max: 600, windowMs: 60_000 };
  return { max: 1200, windowMs: 60_000 };
}

/**
 * What front doors call: every request goes authenticate → rate limit → the one path. Reads are
 * scoped too: an agent sees only its own identity, requests and ledger.
 */
export class Gateway {
  readonly ctx: GatewayContext;
  readonly pipeline: Pipeline;
  readonly approvals: Approvals;
  readonly reads: Reads;
  readonly #authThrottle: AuthFailureThrottle;
  /** The registry's operations with their backends, as this process runs them. */
  readonly operations: Operations;

  constructor(
    readonly warden: Warden,
    options: GatewayOptions,
  ) {
    const ledger = new LedgerCache();
    this.ctx = {
      store: ledger.guard(warden.store),
      ledger,
      vault: warden.vault,
      keyring: warden.vault.auditKeys(),
      clock: warden.clock,
      logger: options.logger,
      auditHead: warden.layout.auditHead,
      limiter: new SlidingWindowLimiter(options.rateLimits ?? defaultRateLimits),
    };
    this.operations = new Operations(warden.vault, this.ctx.store, options.protocols);
    const limits = options.rateLimits ?? defaultRateLimits;
    this.#authThrottle = new AuthFailureThrottle({
      ...DEFAULT_AUTH_THROTTLE,
      ...options.authThrottle,
      perToken: limits('auth.failure'),
      global: limits('auth.failure.global'),
    });
    this.pipeline = new Pipeline(this.ctx, this.operations);
    this.reads = new Reads(this.ctx, this.operations);
    this.approvals = new Approvals(
      this.ctx,
      this.pipeline,
      this.operations,
      options.executeApprovals ?? true,
    );
  }

  /** The names of the operations this server offers (registry names; aliases not listed). */
  get operationNames(): string[] {
    return this.operations.enabled().map((op) => op.name);
  }

  /** Whether a name or alias reaches an enabled operation. */
  hasOperation(name: string): boolean {
    try {
      this.operations.get(name);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Every credential is checked, whatever failed before: a valid token is never refused because of
   * other clients' failures. Failures are slowed down per presented token id and in total.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    let principal: Principal;
    try {
      principal = await authenticate(this.ctx.store.db, authorization, this.ctx.clock);
    } catch (err) {
      // Sealed, token rows cannot be checked (their MAC key is gone): not a failure to count.
      if (isWardenError(err, 'VAULT_SEALED')) this.#requireUnsealed();
      const verdict = this.#authThrottle.failure(
        presentedTokenId(authorization),
        this.ctx.clock.now().getTime(),
      );
      if (!verdict.limited) throw err;
      await this.#authThrottle.wait(verdict.delayMs, sleep);
      throw new WardenError('RATE_LIMITED', 'too many failed authentications; slow down', {
        operation: 'auth.failure',
        retryAfterSeconds: verdict.retryAfterSeconds,
      });
    }
    // A sealed vault serves nothing and says so (not an authentication failure: not counted).
    this.#requireUnsealed();
    return principal;
  }

  #sealReported = false;
  #unavailableReported = false;

  /**
   * VAULT_SEALED once the vault has sealed itself (its passphrase was changed by another
   * process); the first time, the operator's log says so at error level.
   */
  #requireUnsealed(): void {
    try {
      this.warden.vault.requireUnsealed();
    } catch (err) {
      if (isWardenError(err, 'VAULT_SEALED') && !this.#sealReported) {
        this.#sealReported = true;
        this.ctx.logger.error(
          { code: err.code, reason: err.details.reason ?? null },
          'the vault has sealed itself: restart Warden and unseal it with the current passphrase',
        );
      }
      throw err;
    }
  }

  #limit(principal: Principal, operation: string): void {
    this.ctx.limiter.hit(principal.tokenId, operation, this.ctx.clock.now().getTime());
  }

  /** Agents act for their own identity only; others may name any identity they can read. */
  #scope(principal: Principal, identity: string | undefined): string {
    if (principal.role === 'agent') {
      if (identity !== undefined && identity !== principal.identity) {
        throw new WardenError('FORBIDDEN', 'this token acts for another identity');
      }
      return principal.identity!;
    }
    if (identity === undefined) throw new WardenError('INVALID_REQUEST', 'name an identity');
    this.warden.vault.getIdentity(identity);
    return identity;
  }

  #requireRole(principal: Principal, roles: Principal['role'][]): void {
    if (!roles.includes(principal.role))
      throw new WardenError('FORBIDDEN', `this needs a ${roles.join(' or ')} token`);
  }

  async submit(
    principal: Principal,
    operation: string,
    body: unknown,
    identity?: string,
  ): Promise<RequestView> {
    if (principal.role === 'agent') this.#scope(principal, identity);
    const op = this.operations.get(operation);
    requireAgent(principal, op.capability);
    this.#limit(principal, op.name);
    return this.pipeline.submit(principal, op, body);
  }

  async dryRun(principal: Principal, operation: string, body: unknown, identity?: string) {
    const target = this.#scope(principal, identity);
    const op = this.operations.get(operation);
    if (principal.role === 'agent') requireAgent(principal, op.capability);
    this.#limit(principal, `dry-run.${op.name}`);
    return this.pipeline.dryRun(target, op, body);
  }

  readonly #waits = new Map<string, number>();

  async getRequest(principal: Principal, requestId: string, waitSeconds = 0): Promise<RequestView> {
    this.#limit(principal, 'read.request');
    const waiting = this.#waits.get(principal.tokenId) ?? 0;
    if (waitSeconds > 0 && waiting >= MAX_WAITS_PER_TOKEN) {
      throw new WardenError('RATE_LIMITED', `at most ${MAX_WAITS_PER_TOKEN} waits per token at once`, {
        operation: 'read.wait',
      });
    }
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
        if (!pending || Date.now() >= deadline || this.#closed) return requestView(row);
        await sleep(250);
      }
    } finally {
      const left = (this.#waits.get(principal.tokenId) ?? 1) - 1;
      if (left === 0) this.#waits.delete(principal.tokenId);
      else this.#waits.set(principal.tokenId, left);
    }
  }

  async listApprovals(principal: Principal): Promise<HeldRequest[]> {
    this.#requireRole(principal, ['operator', 'admin', 'viewer']);
    this.#limit(principal, 'read.approvals');
    return this.reads.heldRequests();
  }

  /** A request's row, for the CLI's local operator views (the CLI holds the vault already). */
  requestRow(requestId: string) {
    return getRequestRow(this.ctx.store.db, requestId);
  }

  /** One request as an approver reviews it: full payload, summary, intent hash, approvals. */
  async showApproval(principal: Principal, requestId: string): Promise<HeldRequest> {
    this.#requireRole(principal, ['operator', 'admin', 'viewer']);
    this.#limit(principal, 'read.approvals');
    return this.reads.held(await getRequestRow(this.ctx.store.db, requestId));
  }

  /** Requests by status (or the risk denials that may be accepted); an agent sees its own only. */
  async listRequests(
    principal: Principal,
    filter: { status?: RequestFilter; identity?: string; limit?: number },
  ): Promise<ReviewedRequest[]> {
    this.#limit(principal, 'read.request');
    const identity =
      principal.role === 'agent' || filter.identity !== undefined
        ? this.#scope(principal, filter.identity)
        : undefined;
    return this.reads.requests({ ...filter, ...(identity === undefined ? {} : { identity }) });
  }

  async decide(
    principal: Principal,
    requestId: string,
    verdict: 'approve' | 'deny',
    reason: string | null,
    reviewedIntentHash: string | null = null,
  ): Promise<RequestView> {
    this.#requireRole(principal, ['operator', 'admin']);
    this.#limit(principal, 'approvals.decide');
    return this.approvals.decide(actorOf(principal), requestId, verdict, reason, reviewedIntentHash);
  }

  async acceptRisk(
    principal: Principal,
    requestId: string,
    reason: string,
    reviewedIntentHash: string | null = null,
  ): Promise<RequestView> {
    this.#requireRole(principal, ['operator', 'admin']);
    this.#limit(principal, 'approvals.decide');
    return this.approvals.acceptRisk(actorOf(principal), requestId, reason, reviewedIntentHash);
  }

  listIdentities(principal: Principal) {
    this.#limit(principal, 'read.identities');
    const all = this.warden.vault.listIdentities();
    return principal.role === 'agent' ? all.filter((i) => i.name === principal.identity) : all;
  }

  getIdentity(principal: Principal, name: string) {
    this.#limit(principal, 'read.identities');
    return this.warden.vault.getIdentity(this.#scope(principal, name));
  }

  async getPolicy(principal: Principal, name: string) {
    this.#limit(principal, 'read.policy');
    const identity = this.#scope(principal, name);
    const loaded = await loadPolicy(this.ctx.store.db, identity);
    return {
      identity,
      source: loaded.source,
      hash: loaded.hash,
      explain: explainPolicy(loaded.policy),
      document: loaded.document,
    };
  }

  async ledger(principal: Principal, identity?: string) {
    this.#limit(principal, 'read.ledger');
    const target =
      principal.role === 'agent' || identity !== undefined ? this.#scope(principal, identity) : undefined;
    return {
      totals: toJsonValue(await ledgerTotals(this.ctx.store.db, target)),
      entries: await listLedger(this.ctx.store.db, target ? { identity: target } : {}),
    };
  }

  #closed = false;

  /**
   * The health monitors see: `sealed` once the vault has sealed itself, `unavailable` when the
   * keystore cannot even be read (damaged, removed); then the server answers nothing else.
   */
  health(): 'ok' | 'sealed' | 'unavailable' {
    try {
      this.#requireUnsealed();
      return 'ok';
    } catch (err) {
      if (isWardenError(err, 'VAULT_SEALED')) return 'sealed';
      if (!this.#unavailableReported) {
        this.#unavailableReported = true;
        this.ctx.logger.error(
          { code: isWardenError(err) ? err.code : 'INTERNAL' },
          'the keystore cannot be read',
        );
      }
      return 'unavailable';
    }
  }

  /** Releases due delayed holds; the server calls this every second (not while sealed). */
  async tick(): Promise<number> {
    // Sealed or unreadable: nothing is released (health has reported it once already).
    if (this.#closed || this.health() !== 'ok') return 0;
    return this.approvals.tick();
  }

  /** Stops long-polls and the scheduler, and waits for executions in flight to settle. */
  async drain(): Promise<void> {
    this.#closed = true;
    await this.pipeline.drain();
  }
}
