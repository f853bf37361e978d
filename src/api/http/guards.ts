import type { Hono, MiddlewareHandler } from 'hono';
import { WardenError } from '../../core/errors.ts';

/** Where the server listens; known only after `listen` (port 0 picks one), hence a getter. */
export interface BoundAddress {
  /** The bound address as it appears in a Host header (`127.0.0.1`, `[::1]`). */
  host: string;
  port: number;
  tls: boolean;
  /** Bound to loopback: then `localhost`, `127.0.0.1` and `[::1]` all name this server. */
  loopback: boolean;
}

export interface GuardOptions {
  /**
   * Extra names clients may use in `Host` (a reverse proxy's name, the onion name). A bare name
   * matches with or without the bound port (a proxy on port 80/443 sends it bare); `name:port`
   * matches exactly that.
   */
  allowedHosts?: readonly string[];
  /** Exact origins (`scheme://host[:port]`) whose browser requests are served. Default: none. */
  allowedOrigins?: readonly string[];
  bound?: () => BoundAddress | null;
}

const HOST_NAME =
  /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:[0-9]{1,5})?$/;

/** A Host name to allow (`name`, `name:port`, `[v6]:port`), lower-cased; null if it is not one. */
export function normalizeAllowedHost(value: string): string | null {
  const name = value.trim().toLowerCase();
  return name.length <= 255 && HOST_NAME.test(name) ? name : null;
}

/** An origin to allow, exactly `scheme://host[:port]` (no path, no slash), lower-cased; else null. */
export function normalizeAllowedOrigin(value: string): string | null {
  const origin = value.trim().toLowerCase();
  try {
    const url = new URL(origin);
    return /^https?:$/.test(url.protocol) && url.origin === origin ? origin : null;
  } catch {
    return null;
  }
}

/** Every Host value that names this server: the loopback names, the bound address, the allowed names. */
export function acceptedHosts(bound: BoundAddress, allowed: readonly string[] = []): Set<string> {
  const names = new Set<string>([bound.host]);
  if (bound.loopback) for (const n of ['localhost', '127.0.0.1', '[::1]']) names.add(n);
  const out = new Set<string>();
  // A browser omits the port when it is the scheme's default.
  const defaultPort = bound.port === (bound.tls ? 443 : 80);
  const add = (name: string) => {
    out.add(`${name}:${bound.port}`);
    if (defaultPort) out.add(name);
  };
  for (const n of names) add(n.toLowerCase());
  for (const raw of allowed) {
    const name = raw.trim().toLowerCase();
    if (/:[0-9]+$/.test(name)) out.add(name);
    else {
      out.add(name);
      add(name);
    }
  }
  return out;
}

/**
 * DNS rebinding: a page on attacker.example whose name now resolves to 127.0.0.1 reaches us
 * with `Host: attacker.example`; only names of this server are answered (421 otherwise).
 */
function hostGuard(options: GuardOptions): MiddlewareHandler {
  let accepted: Set<string> | null = null;
  return async (c, next) => {
    if (accepted === null) {
      const bound = options.bound?.() ?? null;
      // Not listening yet (or built without a server): only the configured names are known.
      accepted = bound
        ? acceptedHosts(bound, options.allowedHosts)
        : new Set((options.allowedHosts ?? []).map((h) => h.trim().toLowerCase()));
    }
    const host = c.req.header('host')?.toLowerCase();
    if (host === undefined || !accepted.has(host)) {
      throw new WardenError(
        'MISDIRECTED_REQUEST',
        'this server does not answer to that Host name (allow one with warden start --allow-host NAME)',
        { host: host === undefined ? null : host.slice(0, 255) },
      );
    }
    await next();
  };
}

/**
 * Browsers: a request carrying an `Origin` comes from a web page; it is served only from an
 * allowed origin, which then also gets the CORS headers it needs (preflight included).
 */
function originGuard(options: GuardOptions): MiddlewareHandler {
  const allowed = new Set((options.allowedOrigins ?? []).map((o) => o.trim().toLowerCase()));
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined) return next();
    if (!allowed.has(origin.toLowerCase())) {
      throw new WardenError(
        'ORIGIN_NOT_ALLOWED',
        'requests from web pages are refused unless their origin is allowed (warden start --allow-origin ORIGIN)',
        { origin: origin.slice(0, 255) },
      );
    }
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Vary', 'Origin');
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      c.header('Access-Control-Allow-Methods', 'GET, POST');
      c.header('Access-Control-Allow-Headers', 'authorization, content-type');
      c.header('Access-Control-Max-Age', '600');
      return c.body(null, 204);
    }
    await next();
  };
}

const SECURITY_HEADERS = [
  ['Cache-Control', 'no-store'],
  ['X-Content-Type-Options', 'nosniff'],
] as const;

/**
 * Prepared before anything else runs, so every answer the app builds (200, errors, 404, 413,
 * 429) is built with them, and @hono/node-server writes it from its light response. Set after
 * the answer was built, they made it a web Response first (about 20 µs a request). An answer a
 * handler builds itself, which prepared headers do not reach, goes through `withSecurityHeaders`.
 */
const securityHeaders: MiddlewareHandler = async (c, next) => {
  for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
  await next();
};

/** The security headers on a Response a handler built itself (the MCP transport's answers). */
export function withSecurityHeaders(response: Response): Response {
  for (const [name, value] of SECURITY_HEADERS) response.headers.set(name, value);
  return response;
}

/**
 * Installs, before any other middleware (body limit, authentication) so they run first on every
 * route: the security headers, then the Host and Origin checks.
 */
// biome-ignore lint/suspicious/noExplicitAny: any Hono environment
export function installGuards(app: Hono<any>, options: GuardOptions): void {
  app.use('*', securityHeaders);
  app.use('*', hostGuard(options));
  app.use('*', originGuard(options));
}
