import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { startHttpServer } from '../../src/api/http/server.ts';
import { ensureHome } from '../../src/config/home.ts';
import type { Clock } from '../../src/core/clock.ts';
import { nullLogger } from '../../src/core/logger.ts';
import type { Capability, Role } from '../../src/core/principal.ts';
import { createTokenAudited, setPolicyAudited } from '../../src/gateway/admin.ts';
import { Gateway, type GatewayOptions } from '../../src/gateway/gateway.ts';
import type { RateLimit } from '../../src/gateway/rate-limit.ts';
import { Warden } from '../../src/gateway/warden.ts';
import { passphrase, TEST_KDF } from './home.ts';

export interface TestGateway {
  url: string;
  warden: Warden;
  gateway: Gateway;
  token(
    role: Role,
    options?: { identity?: string; capabilities?: Capability[]; ttlMs?: number },
  ): Promise<string>;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** A real Warden (vault, SQLite store, audit log) behind a real HTTP server on 127.0.0.1. */
export async function startTestGateway(options: {
  identities: string[];
  policies?: Record<string, string>;
  clock?: Clock;
  evmRpc?: Map<number, string>;
  /** Module configurations besides the EVM nodes (`bitcoin: bitcoinModuleConfig(…)`). */
  protocols?: Record<string, unknown>;
  rateLimits?: (operation: string) => RateLimit;
  authThrottle?: GatewayOptions['authThrottle'];
  /** Timing jitter of sends (warden.yaml `jitter`), in ms. */
  jitter?: GatewayOptions['jitter'];
  /** How the NWC door's relays are reached (a loopback relay needs allowLoopback). */
  nwc?: GatewayOptions['nwc'];
  /** Host names and browser origins the server answers besides its own (a proxy in front). */
  allowedHosts?: string[];
  allowedOrigins?: string[];
  /** The signing thread of batches that sign several requests (one whose worker fails). */
  signing?: GatewayOptions['signing'];
}): Promise<TestGateway> {
  const root = mkdtempSync(join(tmpdir(), 'warden-gateway-'));
  const layout = ensureHome(join(root, 'home'));
  const warden = await Warden.init(
    {
      home: layout.dir,
      actor: 'cli:test',
      logger: nullLogger(),
      kdf: TEST_KDF,
      ...(options.clock ? { clock: options.clock } : {}),
    },
    passphrase(),
  );
  for (const name of options.identities) await warden.createIdentity(name, 'regtest');
  for (const [identity, doc] of Object.entries(options.policies ?? {}))
    await setPolicyAudited(warden, identity === '*' ? null : identity, doc);
  const gateway = new Gateway(warden, {
    logger: nullLogger(),
    protocols: {
      ...(options.evmRpc ? { evm: { rpcUrls: options.evmRpc } } : {}),
      ...(options.protocols ?? {}),
    },
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.authThrottle ? { authThrottle: options.authThrottle } : {}),
    ...(options.jitter ? { jitter: options.jitter } : {}),
    ...(options.nwc ? { nwc: options.nwc } : {}),
    ...(options.signing ? { signing: options.signing } : {}),
  });
  const server = await startHttpServer(gateway, {
    host: '127.0.0.1',
    port: 0,
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
    await warden.close();
    rmSync(root, { recursive: true, force: true });
  };
  after(close);
  return {
    url: server.url,
    warden,
    gateway,
    async token(role, o = {}) {
      const { token } = await createTokenAudited(warden, {
        role,
        identity: o.identity ?? null,
        capabilities: o.capabilities ?? [],
        label: `test-${role}`,
        ...(o.ttlMs ? { ttlMs: o.ttlMs } : {}),
      });
      return token;
    },
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.rawBody !== undefined) body = o.rawBody;
      else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed };
    },
    close,
  };
}

/** The id and secret of a `wdn_<id>_<secret>` token (the secret may itself contain `_`). */
export function tokenParts(token: string): { id: string; secret: string } {
  const m = /^wdn_(tok_[a-z2-7]{26})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) throw new Error('not a Warden token');
  return { id: m[1]!, secret: m[2]! };
}
