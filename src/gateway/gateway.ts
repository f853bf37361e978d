import type { Logger } from 'pino';
import type { SchnorrThread } from '../keys/schnorr-thread.ts';
import { type JitterRange, JitterScheduler } from '../net/jitter.ts';
import { Approvals } from './approvals.ts';
import { AuthFailureThrottle, DEFAULT_AUTH_THROTTLE } from './auth-throttle.ts';
import { Circuits } from './circuits.ts';
import type { GatewayContext } from './context.ts';
import { ExecutorSlot } from './executor.ts';
import { LedgerCache } from './ledger-cache.ts';
import { Monitors } from './monitors.ts';
import { Operations, type ProtocolConfig } from './operations.ts';
import { type Orphan, recoverOrphans } from './orphans.ts';
import { Pipeline } from './pipeline.ts';
import { type RateLimit, SlidingWindowLimiter } from './rate-limit.ts';
import { Reads } from './reads.ts';
import { Access } from './services/access.ts';
import { AdminService } from './services/admin.ts';
import { ApprovalService } from './services/approvals.ts';
import { NwcConnections, type NwcRoute } from './services/nwc.ts';
import { ReadService } from './services/reads.ts';
import { RequestService } from './services/requests.ts';
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
  /**
   * Timing jitter of sends (warden.yaml `jitter`): each waits a delay from this range, per
   * identity (net/jitter.ts). Absent, null or 0..0: off.
   */
  jitter?: JitterRange | null;
  /** How the NWC door's relays are reached (warden.yaml `nwc`); default direct, no loopback. */
  nwc?: NwcRoute;
  /** The signing thread of batches that sign several requests (tests give one that fails). */
  signing?: SchnorrThread;
}

/** Default sliding-window limits per token and operation. */
export function defaultRateLimits(operation: string): RateLimit {
  // Failed authentications: per presented token id, and in total (see AuthFailureThrottle).
  if (operation === 'auth.failure') return { max: 10, windowMs: 60_000 };
  if (operation === 'auth.failure.global') return { max: 100, windowMs: 60_000 };
  if (operation.startsWith('read.')) return { max: 600, windowMs: 60_000 };
  return { max: 1200, windowMs: 60_000 };
}

/**
 * The one path as services. Front doors (HTTP, CLI, MCP, …) turn a credential into a principal
 * with `access` and call `requests`, `approvals`, `reads` and `admin` with it; every service
 * checks the principal's role, identity and rate limits itself. The CLI calls the same methods
 * with its local-operator principal (`access.localOperator`). What they share (pipeline, ledger
 * cache, approvals engine) stays inside.
 */
export class Gateway {
  readonly access: Access;
  readonly requests: RequestService;
  readonly approvals: ApprovalService;
  readonly reads: ReadService;
  readonly admin: AdminService;
  readonly nwc: NwcConnections;
  /** Tor circuits per identity: rotated by an operator (any process) or a key rotation. */
  readonly circuits: Circuits;
  /** The registry's operations with their backends, as this process runs them. */
  readonly operations: Operations;
  readonly #ctx: GatewayContext;
  readonly #engine: Approvals;
  /** For the bench and tests that drive the path without HTTP. */
  readonly pipeline: Pipeline;
  readonly #warden: Warden;
  /** The modules' monitors (Lightning's channels): refreshed by `tick`, read through `reads`. */
  readonly monitors: Monitors;
  #closed = false;

  constructor(warden: Warden, options: GatewayOptions) {
    this.#warden = warden;
    const ledger = new LedgerCache();
    const limits = options.rateLimits ?? defaultRateLimits;
    const ctx: GatewayContext = {
      store: ledger.guard(warden.store),
      ledger,
      vault: warden.vault,
      keyring: warden.vault.auditKeys(),
      clock: warden.clock,
      logger: options.logger,
      auditHead: warden.layout.auditHead,
      limiter: new SlidingWindowLimiter(limits),
      executor: new ExecutorSlot(warden.layout.executors),
    };
    this.#ctx = ctx;
    const throttle = new AuthFailureThrottle({
      ...DEFAULT_AUTH_THROTTLE,
      ...options.authThrottle,
      perToken: limits('auth.failure'),
      global: limits('auth.failure.global'),
    });
    this.operations = new Operations(warden.vault, ctx.store, options.protocols);
    const jitter = options.jitter && options.jitter.maxMs > 0 ? new JitterScheduler(options.jitter) : null;
    this.pipeline = new Pipeline(ctx, this.operations, jitter, options.signing);
    const reads = new Reads(ctx, this.operations);
    this.monitors = new Monitors(warden.vault, ctx.logger, this.operations);
    this.#engine = new Approvals(ctx, this.pipeline, this.operations, options.executeApprovals ?? true);
    this.access = new Access(ctx, warden.vault, throttle);
    this.requests = new RequestService(ctx, this.access, this.operations, this.pipeline);
    this.approvals = new ApprovalService(ctx, this.access, reads, this.#engine);
    this.reads = new ReadService(ctx, this.access, warden.vault, reads, this.monitors);
    this.circuits = new Circuits(warden);
    this.admin = new AdminService(warden, this.access, this.operations, this.circuits);
    this.nwc = new NwcConnections(warden, this.access, options.nwc);
  }

  get logger(): Logger {
    return this.#ctx.logger;
  }

  /** The names of the operations this server offers (registry names; aliases not listed). */
  get operationNames(): string[] {
    return this.operations.enabled().map((op) => op.name);
  }

  /** Whether a name or alias reaches an enabled operation. */
  hasOperation(name: string): boolean {
    return this.operations.has(name);
  }

  health(): 'ok' | 'sealed' | 'unavailable' {
    return this.access.health();
  }

  /**
   * What a process that is gone (killed) left `executing` becomes `unknown`, still counted, for
   * reconcile to settle at once (orphans.ts); a live process's requests are never touched. A
   * server calls this as it starts, before it takes requests.
   */
  recoverOrphans(): Promise<Orphan[]> {
    return recoverOrphans(this.#warden);
  }

  /** Releases due delayed holds; the server calls this every second (not while sealed). */
  async tick(): Promise<number> {
    // Sealed or unreadable: nothing is released (health has reported it once already).
    if (this.#closed || this.health() !== 'ok') return 0;
    // Not awaited: a slow node must not hold back the release of due holds.
    void this.monitors.tick();
    await this.#followRotations();
    return this.#engine.tick();
  }

  /** Applies circuit rotations other processes recorded; a failed read is retried next tick. */
  async #followRotations(): Promise<void> {
    try {
      const rotated = await this.circuits.follow();
      if (rotated.length > 0) this.#ctx.logger.info({ count: rotated.length }, 'Tor circuits rotated');
    } catch (err) {
      this.#ctx.logger.warn({ err }, 'following circuit rotations failed; retried next second');
    }
  }

  /** Stops long-polls and the scheduler, and waits for executions in flight to settle. */
  async drain(): Promise<void> {
    this.#closed = true;
    this.monitors.close();
    await this.requests.drain();
  }
}
