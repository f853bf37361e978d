import type { Command } from 'commander';
import { isLoopback } from '../../api/http/server.ts';
import { runStdioBridge } from '../../api/mcp/bridge.ts';
import { WardenError } from '../../core/errors.ts';
import type { ListenConfig } from '../../gateway/index.ts';
import { readSecretFile } from '../../gateway/vault-api.ts';
import type { CliContext } from '../context.ts';
import { effectiveConfig } from './config-flags.ts';

/** A token as it may appear in a header: printable ASCII, no spaces (its text is never echoed). */
const TOKEN = /^[\x21-\x7e]{1,512}$/;

/**
 * The agent's token, from a private file or the environment. It becomes the one string the
 * bridge keeps (an HTTP header is text); the file's bytes are wiped.
 */
function readToken(ctx: CliContext, file: string | undefined): string {
  let token: string | undefined;
  if (file !== undefined) {
    const bytes = readSecretFile(file);
    token = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    bytes.fill(0);
  } else token = ctx.io.env.WARDEN_TOKEN;
  if (token === undefined || token === '')
    throw new WardenError('USAGE', 'give the agent token with --token-file FILE or $WARDEN_TOKEN');
  if (!TOKEN.test(token))
    throw new WardenError('USAGE', 'the token is not a Warden token (one line, no spaces)');
  return token;
}

/** Where the running server listens, from warden.yaml: a wildcard bind is reached on loopback. */
function listenUrl(listen: ListenConfig): URL {
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  const name = host.includes(':') ? `[${host}]` : host;
  return new URL(`${listen.tls ? 'https' : 'http'}://${name}:${listen.port}`);
}

function parseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WardenError('USAGE', '--url takes http(s)://host[:port]');
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password)
    throw new WardenError('USAGE', '--url takes http(s)://host[:port], without credentials');
  // The bearer token goes in every request: plain HTTP only where it never leaves this machine.
  if (url.protocol === 'http:' && !isLoopback(url.hostname.replace(/^\[(.*)\]$/, '$1')))
    throw new WardenError(
      'USAGE',
      '--url: a server on another host takes https:// (over http the token would cross the network in clear)',
    );
  return url;
}

export async function mcp(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts() as { url?: string; tokenFile?: string };
  const url = opts.url !== undefined ? parseUrl(opts.url) : listenUrl(effectiveConfig(ctx).listen);
  const token = readToken(ctx, opts.tokenFile);
  // stdout is the protocol's: what the bridge has to say goes to stderr.
  await runStdioBridge({
    url,
    authorization: `Bearer ${token}`,
    stdin: ctx.io.stdin,
    stdout: ctx.io.stdout,
    log: (line) => ctx.io.stderr.write(`warden mcp: ${line}\n`),
  });
}
