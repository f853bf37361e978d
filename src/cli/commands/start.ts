import type { Command } from 'commander';
import { normalizeAllowedHost, normalizeAllowedOrigin } from '../../api/http/guards.ts';
import { WardenError } from '../../core/errors.ts';
import {
  collect,
  parsePositiveInt,
  type Registration,
  withPassphraseFile,
  withProtocolFlags,
} from './options.ts';
import { withKdfFlags } from './vault.ts';

export const DEFAULT_PORT = 7878;

/** How often (seconds) the server asks the backends what committed operations really paid in fees. */
export const DEFAULT_FEE_FOLLOW_SECONDS = 30;

const actions = () => import('../actions/start.ts');

function parseFlag(flag: string, parse: (v: string) => string | null, form: string) {
  return (value: string, previous: string[] = []): string[] => {
    const parsed = parse(value);
    if (parsed === null) throw new WardenError('USAGE', `${flag} takes ${form}, got "${value.slice(0, 80)}"`);
    return collect(parsed, previous);
  };
}

export function registerStartCommand(program: Command, { run, facts }: Registration): void {
  withProtocolFlags(
    withKdfFlags(
      withPassphraseFile(
        program
          .command('start')
          .description(
            'unseal the vault and serve the HTTP API; listener and backends from warden.yaml, the flags override it (first run on a terminal: guided vault setup)',
          )
          .option(
            '--host <address>',
            'address to listen on (warden.yaml listen.host); non-loopback needs TLS and --allow-remote',
            '127.0.0.1',
          )
          .option(
            '--port <port>',
            'port to listen on (warden.yaml listen.port; 0: any free port)',
            (v) => (v === '0' ? 0 : parsePositiveInt('--port')(v)),
            DEFAULT_PORT,
          )
          .option('--tls-cert <file>', 'TLS certificate (PEM)')
          .option('--tls-key <file>', 'TLS private key (PEM)')
          .option('--allow-remote', 'allow a non-loopback address (requires TLS)')
          .option(
            '--onion',
            "also publish the API as a v3 onion service through Tor's control port (warden.yaml tor: control + cookie, or managed); the same address every start",
          )
          .option(
            '--fee-follow <seconds>',
            'with an EVM RPC (warden.yaml or --evm-rpc): every N seconds book the fees committed EVM sends really paid (0: never)',
            (v) => (v === '0' ? 0 : parsePositiveInt('--fee-follow')(v)),
            DEFAULT_FEE_FOLLOW_SECONDS,
          )
          .option(
            '--body-limit <bytes>',
            'largest request body accepted (default 65536)',
            parsePositiveInt('--body-limit'),
          )
          .option(
            '--allow-host <name>',
            'also answer requests whose Host is NAME, bare or with the port, or exactly NAME:PORT (repeatable; e.g. a reverse proxy)',
            parseFlag('--allow-host', normalizeAllowedHost, 'a host name, NAME:PORT or [IPv6]:PORT'),
            [],
          )
          .option(
            '--allow-origin <origin>',
            'serve browser requests from this exact origin, scheme://host[:port] (repeatable; default none)',
            parseFlag('--allow-origin', normalizeAllowedOrigin, 'scheme://host[:port]'),
            [],
          ),
      ),
    ),
    facts,
  ).action(run(actions, 'start'));
}
