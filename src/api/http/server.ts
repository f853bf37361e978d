import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { WardenError } from '../../core/errors.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { createHttpApp } from './app.ts';
import type { BoundAddress } from './guards.ts';

type Server = ReturnType<typeof createAdaptorServer>;

export interface ServeOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  /** Needed, together with TLS, to bind anything but loopback. */
  allowRemote?: boolean;
  bodyLimit?: number;
  /** Host names answered besides the bound address and the loopback names (see guards.ts). */
  allowedHosts?: readonly string[];
  /** Browser origins served; requests from any other origin are refused. */
  allowedOrigins?: readonly string[];
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Refuses a non-loopback bind unless TLS is configured and --allow-remote was given. */
export function checkBind(options: ServeOptions): void {
  if (isLoopback(options.host)) return;
  if (!options.tls || !options.allowRemote) {
    throw new WardenError(
      'BIND_REFUSED',
      `refusing to listen on ${options.host}: a non-loopback address needs TLS (--tls-cert, --tls-key) and --allow-remote`,
    );
  }
}

export const LISTEN_BACKLOG = 4096;

/** The listen failures a user can act on, named with the address; anything else stays INTERNAL. */
function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE')
    return new WardenError(
      'PORT_IN_USE',
      `port ${port} on ${host} is already in use (another Warden or program?): stop it, or choose --port`,
      { host, port },
    );
  if (code === 'EACCES')
    return new WardenError('BIND_REFUSED', `not permitted to listen on ${where}: choose a port above 1023`, {
      host,
      port,
    });
  if (code === 'EADDRNOTAVAIL')
    return new WardenError('BIND_REFUSED', `${host} is not an address of this machine`, { host, port });
  return err instanceof Error ? err : new Error(String(err));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, host, port)));
    // A deep accept queue: bursts of agent requests wait for a worker instead of being reset.
    server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => resolve());
  });
}

/**
 * Fails with PORT_IN_USE (or BIND_REFUSED) if the address cannot be bound, by binding it for a
 * moment: `warden start` asks this before the passphrase, so nobody types it for nothing.
 */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  // A server of the same kind that never answers: it is closed before anything can connect.
  const probe = createAdaptorServer({ fetch: () => new Response(null, { status: 503 }) });
  await listen(probe, host, port);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(gateway: Gateway, options: ServeOptions): Promise<RunningServer> {
  checkBind(options);
  // The Host check needs the port, which port 0 only chooses at listen: a getter, set below.
  let bound: BoundAddress | null = null;
  const app = createHttpApp(gateway, {
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    bound: () => bound,
  });
  const tls = options.tls
    ? {
        createServer: createHttpsServer,
        serverOptions: { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) },
      }
    : {};
  const server = createAdaptorServer({ fetch: app.fetch, ...tls });
  await listen(server, options.host, options.port);
  const address = server.address() as AddressInfo;
  bound = {
    host: address.family === 'IPv6' ? `[${address.address}]` : address.address,
    port: address.port,
    tls: options.tls !== undefined,
    loopback: isLoopback(options.host),
  };
  return {
    url: `${options.tls ? 'https' : 'http'}://${bound.host}:${address.port}`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
