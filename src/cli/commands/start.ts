import type { Command } from 'commander';
import { startHttpServer } from '../../api/http/server.ts';
import { WardenError } from '../../core/errors.ts';
import { Gateway, Warden } from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { hasPassphraseSource, isInteractive } from '../passphrase.ts';
import { evmHandlersFromFlags, withEvmRpcOption } from './evm-flags.ts';
import {
  parsePositiveInt,
  type Runner,
  vaultPassphrase,
  withPassphraseFile,
  withUnsealedWarden,
} from './shared.ts';
import { initVault, printStatus, withKdfFlags } from './vault.ts';

export const DEFAULT_PORT = 7878;

interface StartFlags {
  passphraseFile?: string;
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  allowRemote?: boolean;
  evmRpc: string[];
  bodyLimit?: number;
  kdfMemory?: number;
  kdfIterations?: number;
}

/** Serves the HTTP API until SIGINT/SIGTERM, releasing delayed holds every second. */
async function serve(ctx: CliContext, warden: Warden, flags: StartFlags): Promise<void> {
  if (!!flags.tlsCert !== !!flags.tlsKey)
    throw new WardenError('USAGE', '--tls-cert and --tls-key go together');
  const gateway = new Gateway(warden, {
    logger: warden.logger,
    handlers: evmHandlersFromFlags(warden, flags.evmRpc),
  });
  const server = await startHttpServer(gateway, {
    host: flags.host,
    port: flags.port,
    ...(flags.tlsCert && flags.tlsKey ? { tls: { certFile: flags.tlsCert, keyFile: flags.tlsKey } } : {}),
    ...(flags.allowRemote ? { allowRemote: true } : {}),
    ...(flags.bodyLimit ? { bodyLimit: flags.bodyLimit } : {}),
  });
  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    gateway
      .tick()
      .catch((err) => warden.logger.error({ err }, 'releasing delayed holds failed'))
      .finally(() => {
        ticking = false;
      });
  }, 1000);
  // Signal handlers go in before the URL is printed: whoever reads it may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  ctx.io.stdout.write(`Warden listening on ${server.url} (operations: ${gateway.operations.join(', ')})\n`);
  warden.logger.info({ url: server.url }, 'listening');
  await stopped;
  clearInterval(timer);
  await server.close();
  // Executions in flight settle (commit, release or unknown) before the vault is sealed.
  await gateway.drain();
  ctx.io.stdout.write('Warden stopped; the vault is sealed.\n');
}

export function registerStartCommand(program: Command, run: Runner): void {
  const start = withEvmRpcOption(
    withKdfFlags(
      withPassphraseFile(
        program
          .command('start')
          .description(
            'unseal the vault and serve the HTTP API (first run on a terminal: guided vault setup)',
          )
          .option(
            '--host <address>',
            'address to listen on; non-loopback needs TLS and --allow-remote',
            '127.0.0.1',
          )
          .option(
            '--port <port>',
            `port to listen on (0: any free port)`,
            (v) => (v === '0' ? 0 : parsePositiveInt('--port')(v)),
            DEFAULT_PORT,
          )
          .option('--tls-cert <file>', 'TLS certificate (PEM)')
          .option('--tls-key <file>', 'TLS private key (PEM)')
          .option('--allow-remote', 'allow a non-loopback address (requires TLS)')
          .option(
            '--body-limit <bytes>',
            'largest request body accepted (default 65536)',
            parsePositiveInt('--body-limit'),
          ),
      ),
    ),
  );
  start.action(
    run(async (ctx) => {
      const flags = start.opts() as StartFlags;
      if (!Warden.exists(ctx.home)) {
        if (!isInteractive(ctx.io) || flags.passphraseFile !== undefined) {
          throw new WardenError(
            'VAULT_NOT_INITIALIZED',
            `no vault in ${ctx.home}: run \`warden init --passphrase-file FILE\`, or run \`warden start\` on a terminal for a guided setup`,
          );
        }
        ctx.io.stderr.write(
          `No vault in ${ctx.home}. Let's create one.\nChoose a vault passphrase (12+ characters; four random words work well).\n`,
        );
        const warden = await initVault(ctx, flags);
        try {
          await printStatus(ctx, warden, 'Warden vault created and unsealed.');
          await serve(ctx, warden, flags);
        } finally {
          await warden.close();
        }
        return;
      }
      if (!hasPassphraseSource(vaultPassphrase(flags.passphraseFile), ctx.io)) {
        throw new WardenError(
          'PASSPHRASE_REQUIRED',
          'the vault is sealed and there is no passphrase source: use --passphrase-file FILE (mode 0600), run on a terminal, or set WARDEN_PASSPHRASE (discouraged)',
        );
      }
      await withUnsealedWarden(ctx, flags.passphraseFile, async (warden) => {
        await printStatus(ctx, warden, 'Warden unsealed.');
        await serve(ctx, warden, flags);
      });
    }),
  );
}
