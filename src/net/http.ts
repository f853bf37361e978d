import { WardenError } from '../core/errors.ts';

/**
 * The one place Warden opens outbound connections. Protocol backends (EVM JSON-RPC, Esplora, LND,
 * relays…) get their `fetch` from here and never call the global one.
 *
 * Tor plugs in here: with Tor enabled, requests go through a SOCKS5h proxy (name resolution on the
 * proxy side, so no DNS leaks) with per-identity circuit isolation, using `context.identity` as the
 * SOCKS username so that two identities never share a circuit. TLS pinning and jitter belong here too.
 */
export interface NetContext {
  /** The identity on whose behalf the request is made; null for Warden's own traffic. */
  identity: string | null;
}

export interface Net {
  fetch(url: string | URL, init: RequestInit, context: NetContext): Promise<Response>;
}

export interface NetOptions {
  /** Allow 127.0.0.0/8, ::1 and localhost (local nodes, tests). Off by default. */
  allowLoopback?: boolean;
  /** Whole-request deadline, body included, in milliseconds. Default 15 s. */
  timeoutMs?: number;
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

function checkUrl(raw: string | URL, allowLoopback: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WardenError('NET_URL_REFUSED', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WardenError('NET_URL_REFUSED', 'only http: and https: URLs may be fetched', {
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

export function createNet(options: NetOptions = {}): Net {
  const allowLoopback = options.allowLoopback === true;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new WardenError('INVALID_ARGUMENT', 'timeoutMs must be a positive integer', { timeoutMs });
  }
  return {
    async fetch(raw, init, _context) {
      const url = checkUrl(raw, allowLoopback);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      try {
        // Redirects are refused: one could lead to a host (or loopback) that was never approved.
        return await globalThis.fetch(url, { ...init, signal, redirect: 'error' });
      } catch (err) {
        const timedOut = timeout.aborted;
        throw new WardenError(
          'NET_UNREACHABLE',
          timedOut ? `no answer within ${timeoutMs} ms` : 'connection failed',
          {
            origin: safeOrigin(url),
            reason: timedOut ? 'timeout' : init.signal?.aborted ? 'aborted' : 'connect',
          },
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
