import { join } from 'node:path';
import type { Command } from 'commander';
import { checkBind, checkPortFree, type ServeOptions, startHttpServer } from '../../api/http/server.ts';
import { type NwcDoor, startNwcDoor } from '../../api/nwc/door.ts';
import { asWardenError, WardenError } from '../../core/errors.ts';
import {
  type ApiOnion,
  apiOnion,
  Gateway,
  type ManagedTor,
  settleFees,
  startManagedTor,
  Warden,
  type WardenConfig,
} from '../../gateway/index.ts';
import { claimServerHome } from '../../gateway/server-slot.ts';
import type { CliContext } from '../context.ts';
import { hasPassphraseSource, isInteractive } from '../passphrase.ts';
import { effectiveConfig, type ListenFlags, listenOverrides } from './config-flags.ts';
import { vaultPassphrase, withUnsealedWarden } from './shared.ts';
import { initVault, printStatus } from './vault.ts';

interface StartFlags extends ListenFlags {
  passphraseFile?: string;
  onion?: boolean;
  feeFollow: number;
  kdfMemory?: number;
  kdfIterations?: number;
}

/**
 * What the server runs with: warden.yaml with the flags over it (listener and protocol backends),
 * checked (usage, configuration, bind rules) before any passphrase.
 */
function startConfig(
  ctx: CliContext,
  command: Command,
  flags: StartFlags,
): { config: WardenConfig; options: ServeOptions } {
  const config = effectiveConfig(ctx, { listen: listenOverrides(command, flags) });
  const options: ServeOptions = config.listen;
  checkBind(options);
  return { config, options };
}

/**
 * Watches the vault once a second: when it seals itself (its passphrase was changed by another
 * process) or its keystore becomes unreadable, the console says so once, and why.
 */
function sealWatcher(ctx: CliContext, gateway: Gateway): () => void {
  let last = 'ok';
  return () => {
    const health = gateway.health();
    if (health === last) return;
    last = health;
    if (health === 'sealed')
      ctx.event(
        'sealed',
        { reason: 'passphrase-changed' },
        'Warden sealed itself: the vault passphrase was changed by another process. Requests now get 503 VAULT_SEALED; restart `warden start` with the new passphrase.',
        true,
      );
    else if (health === 'unavailable')
      ctx.event(
        'unavailable',
        { reason: 'keystore-unreadable' },
        'Warden cannot read its keystore any more (removed or damaged): requests now get 503. Restore it, then restart.',
        true,
      );
  };
}

/**
 * `tor: {managed: true}`: Warden's own tor, started before the backends are used and stopped after
 * the requests in flight settle. Until it has bootstrapped, requests through it fail closed.
 */
async function startTorIfManaged(ctx: CliContext, config: WardenConfig): Promise<ManagedTor | null> {
  const settings = config.tor;
  if (!settings?.managed || settings.control === null) return null;
  const tor = await startManagedTor({
    dir: join(ctx.home, 'tor'),
    socks: settings.socks,
    control: settings.control,
  });
  const socks = `${settings.socks.host}:${settings.socks.port}`;
  ctx.event('tor', { state: 'started', socks }, `Warden's tor started (SocksPort ${socks}); bootstrapping…`);
  tor.bootstrapped(120_000).then(
    () => ctx.event('tor', { state: 'bootstrapped', socks }, "Warden's tor has bootstrapped."),
    (err) => {
      const e = asWardenError(err);
      ctx.event(
        'tor',
        { state: 'failed', error: { code: e.code, message: e.message } },
        `${e.code}: ${e.message}`,
        true,
      );
    },
  );
  return tor;
}

/** Publishes the onion service onto the API's own port (a wildcard bind is reached on loopback). */
async function publishOnion(
  ctx: CliContext,
  onion: ApiOnion,
  server: { host: string; port: number },
): Promise<void> {
  const host = server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host;
  await onion.publish({ host, port: server.port });
  ctx.event(
    'onion',
    { address: onion.address },
    `The API is also an onion service: http://${onion.address}/ (through Tor only)`,
  );
}

/**
 * Before serving: requests a killed Warden left `executing` become `unknown` (still counted, never
 * run again), said on the console, for `warden ledger reconcile --from-chain` to settle now.
 */
async function reportOrphans(ctx: CliContext, gateway: Gateway): Promise<void> {
  const orphans = await gateway.recoverOrphans();
  if (orphans.length === 0) return;
  ctx.event(
    'orphans',
    { requests: orphans.map((o) => o.requestId) },
    `${orphans.length} request(s) were left executing by a Warden that was stopped without settling them: now unknown, still counted. Settle them with \`warden ledger reconcile --from-chain\`: ${orphans.map((o) => o.requestId).join(', ')}`,
    true,
  );
}

/** The NWC door on the configured relays (Tor unless `via: direct`), said on the console. */
async function startNwc(ctx: CliContext, gateway: Gateway, config: WardenConfig): Promise<NwcDoor> {
  const settings = config.nwc!;
  const door = await startNwcDoor(gateway, settings.relays, (message, err) =>
    gateway.logger.warn({ err }, message),
  );
  ctx.event(
    'nwc',
    { relays: settings.relays, via: settings.via },
    `Nostr Wallet Connect answers on ${settings.relays.join(', ')} (${settings.via})`,
  );
  return door;
}

/** Serves the HTTP API until SIGINT/SIGTERM, releasing delayed holds every second. */
async function serve(
  ctx: CliContext,
  warden: Warden,
  flags: StartFlags,
  { config, options }: { config: WardenConfig; options: ServeOptions },
): Promise<void> {
  const tor = await startTorIfManaged(ctx, config);
  const onion: ApiOnion | null =
    flags.onion || config.listen.onion ? apiOnion(warden, config.tor ?? null, tor) : null;
  const gateway = new Gateway(warden, {
    logger: warden.logger,
    protocols: config.protocols,
    jitter: config.jitter,
    ...(config.nwc
      ? {
          nwc: {
            via: config.nwc.via,
            socks: config.tor ? { ...config.tor.socks } : null,
            allowLoopback: config.unsafe.allow_loopback_rpc === true,
          },
        }
      : {}),
  });
  await reportOrphans(ctx, gateway);
  // Where the audit log stands: circuit rotations recorded from here on (by the CLI) are followed.
  await gateway.circuits.follow();
  const server = await startHttpServer(
    gateway,
    onion ? { ...options, allowedHosts: [...(options.allowedHosts ?? []), onion.address] } : options,
  );
  if (onion) await publishOnion(ctx, onion, server);
  const nwc = config.nwc ? await startNwc(ctx, gateway, config) : null;
  const watchSeal = sealWatcher(ctx, gateway);
  let ticking = false;
  // The log gets every failure; the console each kind once, until a tick succeeds again.
  let lastFailure: string | null = null;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    Promise.resolve()
      .then(watchSeal)
      .then(() => gateway.tick())
      .then(() => {
        lastFailure = null;
      })
      .catch((err) => {
        warden.logger.error({ err }, 'releasing delayed holds failed');
        const e = asWardenError(err);
        if (e.code === lastFailure) return;
        lastFailure = e.code;
        ctx.event(
          'error',
          { error: { code: e.code, message: e.message } },
          `releasing delayed holds failed: ${e.code}: ${e.message}`,
          true,
        );
      })
      .finally(() => {
        ticking = false;
      });
  }, 1000);
  const stopFees = followFees(warden, gateway, flags.feeFollow);
  // Signal handlers go in before the URL is printed: whoever reads it may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  ctx.event(
    'listening',
    { url: server.url, host: server.host, port: server.port, operations: gateway.operationNames },
    `Warden listening on ${server.url} (operations: ${gateway.operationNames.join(', ')})`,
  );
  warden.logger.info({ url: server.url }, 'listening');
  await stopped;
  clearInterval(timer);
  stopFees();
  nwc?.close();
  await server.close();
  // Executions in flight settle (commit, release or unknown) before the vault is sealed.
  ctx.event('draining', {}, 'Stopping: requests in flight are settling…');
  await gateway.drain();
  await onion?.close();
  await tor?.stop();
  ctx.event('stopped', { sealed: true }, 'Warden stopped; the vault is sealed.');
}

/**
 * Fees are money, booked at their worst case until the fee paid is known: while the server runs,
 * it asks each module's backend (EVM receipts) every `seconds` and books what they paid, so
 * budgets free up without an operator's `ledger reconcile --from-chain`. Runs never overlap.
 */
function followFees(warden: Warden, gateway: Gateway, seconds: number): () => void {
  if (seconds === 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running || warden.vault.sealed) return;
    running = true;
    settleFees(warden, gateway.operations)
      .catch((err) => warden.logger.warn({ err }, 'looking up fees paid failed; the worst case stays'))
      .finally(() => {
        running = false;
      });
  }, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Reports the unsealed vault: the status lines, or with --json one `unsealed` event. */
async function reportUnsealed(ctx: CliContext, warden: Warden, headline: string): Promise<void> {
  if (ctx.json) ctx.event('unsealed', { status: await warden.status() }, headline);
  else await printStatus(ctx, warden, headline);
}

/**
 * One server per home (ALREADY_RUNNING names its pid) and a free port (PORT_IN_USE), both known
 * before the passphrase is asked for or the KDF runs. The lock is held until `fn` returns.
 */
async function withServerSlot(
  ctx: CliContext,
  options: ServeOptions,
  fn: () => Promise<void>,
): Promise<void> {
  const lock = claimServerHome(ctx.home);
  try {
    await checkPortFree(options.host, options.port);
    await fn();
  } finally {
    lock.release();
  }
}

export async function start(ctx: CliContext, command: Command): Promise<void> {
  const flags = command.opts() as StartFlags;
  const setup = startConfig(ctx, command, flags);
  const { options } = setup;
  if (!Warden.exists(ctx.home)) {
    if (!isInteractive(ctx.io) || flags.passphraseFile !== undefined) {
      throw new WardenError(
        'VAULT_NOT_INITIALIZED',
        `no vault in ${ctx.home}: run \`warden init --passphrase-file FILE\`, or run \`warden start\` on a terminal for a guided setup`,
      );
    }
    await withServerSlot(ctx, options, async () => {
      ctx.io.stderr.write(
        `No vault in ${ctx.home}. Let's create one.\nChoose a vault passphrase (12+ characters; four random words work well).\n`,
      );
      const warden = await initVault(ctx, flags);
      try {
        await reportUnsealed(ctx, warden, 'Warden vault created and unsealed.');
        await serve(ctx, warden, flags, setup);
      } finally {
        await warden.close();
      }
    });
    return;
  }
  if (!hasPassphraseSource(vaultPassphrase(flags.passphraseFile), ctx.io)) {
    throw new WardenError(
      'PASSPHRASE_REQUIRED',
      'the vault is sealed and there is no passphrase source: use --passphrase-file FILE (mode 0600), run on a terminal, or set WARDEN_PASSPHRASE (discouraged)',
    );
  }
  await withServerSlot(ctx, options, () =>
    withUnsealedWarden(ctx, flags.passphraseFile, async (warden) => {
      await reportUnsealed(ctx, warden, 'Warden unsealed.');
      await serve(ctx, warden, flags, setup);
    }),
  );
}
