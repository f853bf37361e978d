import { connect as netConnect, type Socket } from 'node:net';
import { WardenError } from '../core/errors.ts';
import { type Isolation, processIsolation } from './isolation.ts';
import { type SocksEndpoint, socksConnect } from './socks5.ts';
import { exchange } from './transport.ts';
import { type NetWebSocket, openWebSocket } from './websocket.ts';

/**
 * The one place Warden opens outbound connections. Protocol backends (EVM JSON-RPC, Esplora, LND,
 * relays…) get their `fetch` from here and never call the global one.
 *
 * Each backend's route is chosen by the configuration: `tor` (a SOCKS5 stream per request, the
 * host name resolved by Tor, never here; each identity on its own circuits by SOCKS credentials)
 * or `direct` (from this machine's address). When Tor is the route and cannot be reached the
 * request fails with TOR_UNAVAILABLE: nothing ever falls back to a direct connection.
 */
export interface NetContext {
  /** The identity on whose behalf the request is made; null for Warden's own traffic. */
  identity: string | null;
}

export interface Net {
  fetch(url: string | URL, init: RequestInit, context: NetContext): Promise<Response>;
  /**
   * A WebSocket (ws: or wss:, a Nostr relay) on the same route as fetch: through Tor on the
   * identity's circuits, or direct; TLS verified and pinned like https. Opened within the timeout.
   */
  webSocket(url: string | URL, context: NetContext): Promise<NetWebSocket>;
  /**
   * New circuits for this identity's next requests (a new SOCKS nonce) on every Net sharing this
   * one's isolation; no effect when direct.
   */
  rotate(identity: string | null): void;
  /** `tor` or `direct`, for doctor and the logs. */
  readonly via: Route['via'];
}

/** How a backend is reached. */
export type Route =
  | { via: 'direct' }
  | {
      via: 'tor';
      socks: SocksEndpoint;
      /** Default: the process's own (isolation.ts), shared by every backend and relay. */
      isolation?: Isolation;
    };

export interface NetOptions {
  /** Allow 127.0.0.0/8, ::1 and localhost (local nodes, tests). Off by default. */
  allowLoopback?: boolean;
  /** Whole-request deadline, body included, in milliseconds. Default 15 s. */
  timeoutMs?: number;
  /** Default: direct (what a configuration without a `tor` section means). */
  route?: Route;
  /** Origin (`https://host:port`) → the SPKI pins its server must present (pin.ts). */
  pins?: ReadonlyMap<string, readonly string[]>;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

/** Scheme, host and port only: URL paths and queries often carry API keys, so they are never shown. */
export function safeOrigin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** 127.0.0.0/8, ::1 (and its IPv4-mapped forms), localhost and *.localhost, 0.0.0.0 and ::. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  if (/^::ffff:127\./.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host)) return true;
  return host === '0.0.0.0' || host === '::';
}

function checkUrl(raw: string | URL, allowLoopback: boolean, schemes = ['http:', 'https:']): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WardenError('NET_URL_REFUSED', 'not a valid URL');
  }
  if (!schemes.includes(url.protocol)) {
    throw new WardenError('NET_URL_REFUSED', `only ${schemes.join(' and ')} URLs are taken here`, {
      scheme: url.protocol,
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new WardenError('NET_URL_REFUSED', 'credentials in the URL are refused; use a header', {
      origin: safeOrigin(url),
    });
  }
  if (!allowLoopback && isLoopbackHost(url.hostname)) {
    throw new WardenError('NET_URL_REFUSED', 'loopback addresses are refused unless allowLoopback is set', {
      origin: safeOrigin(url),
    });
  }
  return url;
}

function directOpen(url: URL): (signal: AbortSignal) => Promise<Socket> {
  return (signal) =>
    new Promise((resolve, reject) => {
      const socket = netConnect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: portOf(url) });
      const onAbort = () => socket.destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        resolve(socket);
      });
      socket.once('error', (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(
          new WardenError(
            'NET_UNREACHABLE',
            signal.aborted ? 'no connection in time' : 'connection failed',
            { origin: safeOrigin(url), reason: signal.aborted ? 'timeout' : 'connect', sent: false },
            { cause: err },
          ),
        );
      });
    });
}

function portOf(url: URL): number {
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  return url.port === '' ? (secure ? 443 : 80) : Number(url.port);
}

export function createNet(options: NetOptions = {}): Net {
  const allowLoopback = options.allowLoopback === true;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new WardenError('INVALID_ARGUMENT', 'timeoutMs must be a positive integer', { timeoutMs });
  }
  const route: Route = options.route ?? { via: 'direct' };
  const isolation = route.via === 'tor' ? (route.isolation ?? processIsolation) : null;
  /** How a stream to the URL's host is opened on this route, for this identity. */
  const opener = (url: URL, context: NetContext) =>
    route.via === 'tor' && isolation
      ? (s: AbortSignal) =>
          socksConnect({
            proxy: route.socks,
            host: url.hostname.replace(/^\[|\]$/g, ''),
            port: portOf(url),
            ...isolation.credentials(context.identity),
            signal: s,
          })
      : directOpen(url);
  return {
    via: route.via,
    rotate(identity) {
      isolation?.rotate(identity);
    },
    async webSocket(raw, context) {
      const url = checkUrl(raw, allowLoopback, ['ws:', 'wss:']);
      return openWebSocket(url, opener(url, context), timeoutMs, options.pins?.get(safeOrigin(url)));
    },
    async fetch(raw, init, context) {
      const url = checkUrl(raw, allowLoopback);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      const open = opener(url, context);
      try {
        return await exchange({ url, init, signal, open, pins: options.pins?.get(safeOrigin(url)) });
      } catch (err) {
        if (err instanceof WardenError) {
          if (err.code !== 'NET_UNREACHABLE') throw err;
          const reason =
            err.details.reason === 'timeout' && !timeout.aborted && init.signal?.aborted
              ? 'aborted'
              : err.details.reason;
          const message = reason === 'timeout' ? `no answer within ${timeoutMs} ms` : err.message;
          // The origin (never the path: it may hold an API key) for the logs and the caller.
          throw new WardenError(
            err.code,
            message,
            { ...err.details, reason, origin: safeOrigin(url) },
            { cause: err.cause ?? err },
          );
        }
        throw new WardenError(
          'NET_UNREACHABLE',
          'connection failed',
          { origin: safeOrigin(url), reason: timeout.aborted ? 'timeout' : 'connect' },
          { cause: err },
        );
      }
    },
  };
}

/**
 * Reads a response body as text, refusing more than `maxBytes` (a hostile server could send
 * gigabytes). Reading is still bounded in time by the request's timeout signal.
 */
export async function readTextLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new WardenError('NET_UNREACHABLE', 'response too large', { maxBytes, reason: 'too_large' });
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new WardenError('NET_UNREACHABLE', 'response too large', { maxBytes, reason: 'too_large' });
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof WardenError) throw err;
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    throw new WardenError(
      'NET_UNREACHABLE',
      timedOut ? 'response body not received in time' : 'response body could not be read',
      { reason: timedOut ? 'timeout' : 'body' },
      { cause: err },
    );
  }
  return Buffer.concat(chunks).toString('utf8');
}
