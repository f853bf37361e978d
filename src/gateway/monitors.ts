/**
 * The modules' monitors as one process runs them (Lightning's channel monitor): refreshed on
 * each one's period by a running server (`tick`, from the server's one-second loop, never
 * blocking it), read on demand by `warden status` and the operators' HTTP route, and their alerts
 * written to the log as warnings. A refresh borrows an identity's credential from the vault for
 * its one read (module.ts `MonitorContext`), as reconcile does; nothing of it is kept here.
 */
import type { Logger } from 'pino';
import type { Canonical } from '../core/canonical.ts';
import { WardenError } from '../core/errors.ts';
import { signerFor } from '../keys/capabilities.ts';
import type { Vault } from '../keys/vault.ts';
import type { AnyModule, ModuleMonitor, MonitorContext } from '../protocols/module.ts';
import type { Operations } from './operations.ts';

interface Live {
  module: string;
  monitor: ModuleMonitor<unknown>;
  backend: unknown;
}

export class Monitors {
  readonly #live: Live[];
  readonly #due = new Map<string, number>();
  readonly #stops: (() => void)[] = [];
  #running = false;

  constructor(
    private readonly vault: Vault,
    private readonly logger: Logger,
    operations: Operations,
  ) {
    this.#live = operations
      .modules()
      .filter((m): m is { module: AnyModule & { monitor: ModuleMonitor<unknown> }; backend: unknown } =>
        Boolean(m.module.monitor && m.backend),
      )
      .map(({ module, backend }) => ({ module: module.name, monitor: module.monitor, backend }));
    for (const live of this.#live)
      this.#stops.push(
        live.monitor.onAlert(live.backend, (alert) =>
          this.logger.warn({ module: live.module, ...alert }, `monitor alert: ${alert.message}`),
        ),
      );
  }

  /** The modules that keep a monitor and have a backend to watch. */
  get names(): string[] {
    return this.#live.map((l) => l.module);
  }

  /** The route of each: GET, operators only. */
  get routes(): { module: string; path: string }[] {
    return this.#live.map((l) => ({ module: l.module, path: l.monitor.path }));
  }

  #context(): MonitorContext {
    return {
      identities: this.vault.listIdentities(),
      signer: (identity, kind) => signerFor(this.vault, identity, kind),
    };
  }

  async #refresh(live: Live): Promise<Canonical> {
    this.#due.set(live.module, Date.now() + live.monitor.periodMs(live.backend));
    return live.monitor.refresh(live.backend, this.#context());
  }

  /** Refreshes the monitors whose period is over; a tick while one runs does nothing. */
  async tick(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (const live of this.#live) {
        if ((this.#due.get(live.module) ?? 0) > Date.now()) continue;
        try {
          await this.#refresh(live);
        } catch (err) {
          this.logger.error({ module: live.module, err }, 'monitor refresh failed');
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * One module's reading: refreshed now when `fresh` or when there is none yet, else the last.
   * NOT_FOUND for a module that keeps none here (no backend configured).
   */
  async read(module: string, fresh: boolean): Promise<Canonical> {
    const live = this.#live.find((l) => l.module === module);
    if (!live) throw new WardenError('NOT_FOUND', `no ${module} monitor: its backend is not configured`);
    return (!fresh && live.monitor.last(live.backend)) || this.#refresh(live);
  }

  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }
}
