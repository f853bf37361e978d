/**
 * The one place the CLI turns warden.yaml and the command line into the effective configuration:
 * every command that builds a gateway gets its protocol backends here (`withCliGateway`), `start`
 * its listener too (`effectiveConfig` with the listen flags). Flags win over the file, key by key
 * (one `--evm-rpc` replaces that chain's URL only); the flags each protocol module accepts come
 * from its configuration section (registered from the facts, ../facts.ts, read here from the
 * sections themselves), so no flag is threaded through commands by hand.
 */
import type { Command } from 'commander';
import { normalizeAllowedHost, normalizeAllowedOrigin } from '../../api/http/guards.ts';
import { WardenError } from '../../core/errors.ts';
import {
  CONFIG_SECTIONS,
  type ConfigOverrides,
  configFileRef,
  Gateway,
  type ListenConfig,
  loadWardenConfig,
  mergeOver,
  type Warden,
  type WardenConfig,
} from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { withUnsealedWarden } from './shared.ts';

/** The long names of the protocol override flags, for messages (`--evm-rpc`). */
export function protocolFlagNames(): string[] {
  return Object.values(CONFIG_SECTIONS).flatMap((s) => s.flags.map((f) => f.flags.split(/[ ,]/)[0]!));
}

/** The sections the command's protocol flags give, per module. */
function protocolOverrides(command: Command | undefined): NonNullable<ConfigOverrides['protocols']> {
  const out: Record<string, { section: unknown; source: string }> = {};
  if (!command) return out;
  const opts = command.opts() as Record<string, unknown>;
  for (const [name, section] of Object.entries(CONFIG_SECTIONS)) {
    for (const flag of section.flags) {
      const option = command.options.find((o) => o.flags === flag.flags);
      if (!option) continue;
      const values = opts[option.attributeName()];
      const given = flag.toSection(Array.isArray(values) ? (values as string[]) : []);
      if (given === undefined) continue;
      const source = option.long ?? option.flags;
      const before = out[name];
      out[name] = before
        ? { section: mergeOver(before.section, given), source: `${before.source}, ${source}` }
        : { section: given, source };
    }
  }
  return out;
}

/** The listener flags of `warden start`; only those given on the command line override the file. */
export interface ListenFlags {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  allowRemote?: boolean;
  bodyLimit?: number;
  allowHost: string[];
  allowOrigin: string[];
}

/** What of the listener the command line says (a flag left at its default says nothing). */
export function listenOverrides(command: Command, flags: ListenFlags): Partial<ListenConfig> {
  const given = (name: keyof ListenFlags) => command.getOptionValueSource(name) === 'cli';
  if (!!flags.tlsCert !== !!flags.tlsKey) throw usage('--tls-cert and --tls-key go together');
  return {
    ...(given('host') ? { host: flags.host } : {}),
    ...(given('port') ? { port: flags.port } : {}),
    ...(flags.tlsCert && flags.tlsKey ? { tls: { certFile: flags.tlsCert, keyFile: flags.tlsKey } } : {}),
    ...(flags.allowRemote ? { allowRemote: true } : {}),
    ...(flags.bodyLimit === undefined ? {} : { bodyLimit: flags.bodyLimit }),
    ...(given('allowHost') ? { allowedHosts: flags.allowHost } : {}),
    ...(given('allowOrigin') ? { allowedOrigins: flags.allowOrigin } : {}),
  };
}

function usage(message: string): WardenError {
  return new WardenError('USAGE', message);
}

export interface ConfigRequest {
  /** Another file than `$WARDEN_CONFIG` or the home's warden.yaml (`config check --file`). */
  file?: string | undefined;
  /** The listener flags (`start`). */
  listen?: Partial<ListenConfig>;
}

/** warden.yaml (or the file named) with the command's flags over it: CONFIG_INVALID or USAGE when wrong. */
export function effectiveConfig(ctx: CliContext, request: ConfigRequest = {}): WardenConfig {
  return loadWardenConfig(configFileRef(ctx.home, request.file, ctx.io.env), {
    sections: CONFIG_SECTIONS,
    normalize: { allowedHost: normalizeAllowedHost, allowedOrigin: normalizeAllowedOrigin },
    overrides: {
      ...(request.listen ? { listen: request.listen } : {}),
      protocols: protocolOverrides(ctx.command),
    },
  });
}

/** The gateway of a CLI command: it records decisions; the running server executes what they release. */
export function cliGateway(warden: Warden, config: WardenConfig): Gateway {
  return new Gateway(warden, {
    logger: warden.logger,
    protocols: config.protocols,
    executeApprovals: false,
  });
}

/**
 * Loads the effective configuration (a bad warden.yaml or flag is refused before any passphrase
 * is asked for), unseals the vault and runs `fn` with the CLI's gateway; always closes afterwards.
 */
export async function withCliGateway<T>(
  ctx: CliContext,
  passphraseFile: string | undefined,
  fn: (gateway: Gateway, warden: Warden) => Promise<T>,
): Promise<T> {
  const config = effectiveConfig(ctx);
  return withUnsealedWarden(ctx, passphraseFile, (warden) => fn(cliGateway(warden, config), warden));
}
