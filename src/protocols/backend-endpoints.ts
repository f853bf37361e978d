/**
 * The rules every module's backend endpoints share (the EVM nodes by chain id, the Bitcoin nodes
 * by network): http(s) URLs without credentials or fragment, Tor or direct consistently with the
 * `tor` section and the unsafe options, loopback only when asked for, SPKI pins only for https.
 * Each module's config.ts names its endpoints by its own key; these checks speak of them by path.
 * The schemas of a section's `url`, `via` and `pins` values are here too, their messages the same
 * in every section.
 */
import { z } from 'zod';
import { WardenError } from '../core/errors.ts';
import { createNet, isLoopbackHost, type Net, type Route, safeOrigin } from '../net/http.ts';
import { SPKI_PIN } from '../net/pin.ts';

export const MAX_ENDPOINT_URL_LENGTH = 2048;

export interface ConfigProblem {
  path: string[];
  message: string;
}

/** What of the `tor` section a backend section needs (config/'s TorSettings has this shape). */
export interface TorRoute {
  socks: { host: string; port: number };
}

/** An http(s) URL without credentials or fragment, normalized (`http://LOCALHOST:8545` → `http://localhost:8545/`). */
export function checkEndpointUrl(value: string): { url: string } | { problem: string } {
  if (value.length > MAX_ENDPOINT_URL_LENGTH)
    return { problem: `longer than ${MAX_ENDPOINT_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'not a URL; write http://HOST:PORT/PATH or https://…' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { problem: `only http: and https: endpoints are supported, not ${url.protocol.slice(0, 20)}` };
  if (url.username !== '' || url.password !== '')
    return { problem: 'credentials in the URL (user:password@) are refused: the net layer never sends them' };
  if (url.hash !== '') return { problem: 'a URL fragment (#…) is never sent; remove it' };
  return { url: url.href };
}

/**
 * A section's endpoint URL (`error`: what a value that is not text is told), valid by `check`
 * (checkEndpointUrl unless the endpoint is of another kind) and kept normalized.
 */
export function endpointUrlSchema(
  error: string,
  check: (value: string) => { url: string } | { problem: string } = checkEndpointUrl,
) {
  return z.string({ error }).transform((value, ctx) => {
    const checked = check(value);
    if ('problem' in checked) {
      ctx.addIssue({ code: 'custom', message: checked.problem });
      return z.NEVER;
    }
    return checked.url;
  });
}

/** A section's `via`: how its endpoints are reached. */
export const viaSchema = z.enum(['tor', 'direct'], {
  error: "must be tor or direct (direct: from this machine's own address)",
});

/** The SPKI pins of one endpoint's https key: 1 to 8. */
export const pinListSchema = z
  .array(
    z.string().regex(SPKI_PIN, 'a pin is base64 of the SHA-256 of the key (44 characters ending in =)'),
    {
      error: 'must be a list of SPKI pins',
    },
  )
  .min(1, 'at least one pin')
  .max(8, 'at most 8 pins');

/** An endpoint of a section: where it is in the section, and its (valid, normalized) URL. */
export interface Endpoint {
  path: string[];
  url: string;
}

/** `via` as written, or its default: tor when there is a tor section, else direct. */
export function viaOf(via: 'tor' | 'direct' | undefined, tor: TorRoute | null): 'tor' | 'direct' {
  return via ?? (tor ? 'tor' : 'direct');
}

/**
 * Tor or direct, and each endpoint consistent with it: Tor needs a tor section and cannot reach
 * this machine; direct to another machine while Tor is configured needs allow_direct_backends.
 */
export function checkRoute(
  endpoints: readonly Endpoint[],
  via: 'tor' | 'direct' | undefined,
  context: { tor: TorRoute | null; allowDirectBackends: boolean },
): ConfigProblem[] {
  const chosen = viaOf(via, context.tor);
  if (chosen === 'tor' && context.tor === null)
    return [{ path: ['via'], message: 'via: tor needs a tor section (socks: IP:PORT, or managed: true)' }];
  const local = (e: Endpoint) => isLoopbackHost(new URL(e.url).hostname);
  if (chosen === 'tor')
    return endpoints.filter(local).map((e) => ({
      path: e.path,
      message: `${new URL(e.url).host} is on this machine: Tor cannot reach it; set via: direct for this section`,
    }));
  if (context.tor === null || context.allowDirectBackends) return [];
  return endpoints
    .filter((e) => !local(e))
    .map((e) => ({
      path: e.path,
      message: `via: direct would reach ${new URL(e.url).host} from this machine's own address although Tor is configured: refused unless unsafe.allow_direct_backends is true`,
    }));
}

/** Endpoints on this machine need `unsafe.allow_loopback_rpc` unless `named` (the command line named them). */
export function checkLoopback(
  endpoints: readonly Endpoint[],
  allowLoopback: boolean,
  named: (e: Endpoint) => boolean,
  orFlag: string,
): ConfigProblem[] {
  if (allowLoopback) return [];
  return endpoints
    .filter((e) => !named(e) && isLoopbackHost(new URL(e.url).hostname))
    .map((e) => ({
      path: e.path,
      message: `${new URL(e.url).host} is on this machine (loopback): refused unless unsafe.allow_loopback_rpc is true${orFlag}`,
    }));
}

/** Pins are for the https endpoint (a plain-http node has no key to pin) of a configured key. */
export function checkPins(
  pins: Readonly<Record<string, readonly string[]>>,
  urlOf: (key: string) => string | undefined,
  what: string,
): ConfigProblem[] {
  return Object.keys(pins).flatMap((key) => {
    const url = urlOf(key);
    if (url === undefined) return [{ path: ['pins', key], message: `no endpoint for ${what} ${key}` }];
    if (!url.startsWith('https:'))
      return [{ path: ['pins', key], message: 'only an https endpoint has a key to pin' }];
    return [];
  });
}

/** The route of a valid section. */
export function routeOf(via: 'tor' | 'direct' | undefined, tor: TorRoute | null): Route {
  return viaOf(via, tor) === 'tor' && tor ? { via: 'tor', socks: { ...tor.socks } } : { via: 'direct' };
}

/** Origin → pins, for net/ (which pins by origin). */
export function pinsByOrigin(
  pins: Readonly<Record<string, readonly string[]>>,
  urlOf: (key: string) => string | undefined,
): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const [key, list] of Object.entries(pins)) {
    const url = urlOf(key);
    if (url !== undefined) out.set(new URL(url).origin, list);
  }
  return out;
}

/**
 * The net layer for a module's endpoints: loopback allowed only when one of them is on this
 * machine (the config check already required the operator to say so), with the section's route
 * and pins.
 */
export function netForEndpoints(
  urls: Iterable<string>,
  options: { route?: Route; pins?: ReadonlyMap<string, readonly string[]> } = {},
): Net {
  const loopback = [...urls].some((u) => isLoopbackHost(new URL(u).hostname));
  return createNet({
    allowLoopback: loopback,
    ...(options.route ? { route: options.route } : {}),
    ...(options.pins ? { pins: options.pins } : {}),
  });
}

/**
 * A net failure (NET_UNREACHABLE) to reach a module's backend as BACKEND_UNREACHABLE, naming the
 * protocol, the call and the origin only (never the path or a credential); `sent: false` kept, so
 * a caller knows nothing left. Any other error is returned as it was.
 */
export function unreachableBackend(
  err: unknown,
  protocol: string,
  who: string,
  what: string,
  url: URL,
): unknown {
  if (!(err instanceof WardenError) || err.code !== 'NET_UNREACHABLE') return err;
  return new WardenError(
    'BACKEND_UNREACHABLE',
    `${who} did not answer ${what}`,
    {
      protocol,
      what,
      origin: safeOrigin(url),
      reason: err.details.reason ?? null,
      ...(err.details.sent === false ? { sent: false } : {}),
    },
    { cause: err },
  );
}
