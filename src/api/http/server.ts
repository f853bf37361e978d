import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { WardenError } from '../../core/errors.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { createHttpApp } from './app.ts';

export interface ServeOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  /** Needed, together with TLS, to bind anything but loopback. */
  allowRemote?: boolean;
  bodyLimit?: number;
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

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(gateway: Gateway, options: ServeOptions): Promise<RunningServer> {
  checkBind(options);
  const app = createHttpApp(gateway, options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit });
  const tls = options.tls
    ? {
        createServer: createHttpsServer,
        serverOptions: { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) },
      }
    : {};
  const server = createAdaptorServer({ fetch: app.fetch, ...tls });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: bursts of agent requests wait for a worker instead of being reset.
    server.listen({ host: options.host, port: options.port, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
