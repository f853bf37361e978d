/**
 * The effective configuration written back in warden.yaml's shape, for `warden config show`, with
 * every URL redacted: RPC URLs often carry an API key in the path or the query.
 */

import { setOwnField } from '../core/own-field.ts';
import type { TorSettings, WardenConfig } from './warden-config.ts';

export const REDACTED_PART = '***';

/** Path segments this long are taken for API keys (Infura, Alchemy, QuickNode… put them there). */
const LONG_SEGMENT = 16;

/**
 * The URL with nothing that looks like a credential: user-info and every query value become
 * `***`, as does any path segment of 16 characters or more; the fragment is dropped. Scheme,
 * host, port and the short path segments (`/v3`, `/rpc`) stay, so the operator can tell URLs apart.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return REDACTED_PART;
  }
  const userinfo = url.username !== '' || url.password !== '' ? `${REDACTED_PART}@` : '';
  const path = url.pathname
    .split('/')
    .map((segment) => (segment.length >= LONG_SEGMENT ? REDACTED_PART : segment))
    .join('/');
  const query = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=${REDACTED_PART}`);
  return `${url.protocol}//${userinfo}${url.host}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

function redactUrls(value: unknown): unknown {
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value;
  if (Array.isArray(value)) return value.map(redactUrls);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwnField(out, k, redactUrls(v));
    return out;
  }
  return value;
}

/** The effective configuration as warden.yaml would say it (defaults written out), URLs redacted. */
export function configDocument(config: WardenConfig): Record<string, unknown> {
  const l = config.listen;
  return redactUrls({
    listen: {
      host: l.host,
      port: l.port,
      allowed_hosts: [...l.allowedHosts],
      allowed_origins: [...l.allowedOrigins],
      ...(l.tls ? { tls: { cert: l.tls.certFile, key: l.tls.keyFile } } : {}),
      allow_remote: l.allowRemote,
      ...(l.bodyLimit === undefined ? {} : { body_limit: l.bodyLimit }),
    },
    ...(config.tor ? { tor: torDocument(config.tor) } : {}),
    ...(config.jitter
      ? { jitter: { min: `${config.jitter.minMs}ms`, max: `${config.jitter.maxMs}ms` } }
      : {}),
    ...(config.nwc ? { nwc: { relays: [...config.nwc.relays], via: config.nwc.via } } : {}),
    protocols: config.sections,
    unsafe: { ...config.unsafe },
  }) as Record<string, unknown>;
}

function endpoint(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** The `tor` section as it takes effect (a managed tor's ports written out). */
function torDocument(tor: TorSettings): Record<string, unknown> {
  return {
    ...(tor.managed ? { managed: true } : {}),
    socks: endpoint(tor.socks),
    ...(tor.control ? { control: endpoint(tor.control) } : {}),
    ...(tor.cookieFile ? { cookie: tor.cookieFile } : {}),
  };
}
