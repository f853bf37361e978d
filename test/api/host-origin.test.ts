import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startHttpServer } from '../../src/api/http/server.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { type RawResponse, rawRequest } from '../helpers/raw-http.ts';

/** A request to `url` + `path` with exactly these headers (GET unless told). */
function raw(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; noHost?: boolean } = {},
) {
  return rawRequest(`${url}${path}`, { ...options, method: options.method ?? 'GET' });
}

function assertSecurityHeaders(r: RawResponse, what: string): void {
  assert.equal(r.headers['cache-control'], 'no-store', `${what}: Cache-Control`);
  assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options`);
}

const ROUTES: [string, string][] = [
  ['GET', '/v1/health'],
  ['GET', '/v1/openapi.json'],
  ['GET', '/v1/identities'],
  ['GET', '/v1/approvals'],
  ['POST', '/v1/nostr/sign'],
  ['POST', '/v1/dry-run'],
  ['GET', '/no/such/route'],
];

describe('Host and Origin checks (DNS rebinding, browsers)', async () => {
  const g = await startTestGateway({ identities: ['alice'] });
  const port = new URL(g.url).port;
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const auth = { authorization: `Bearer ${agent}` };

  test('a foreign Host is refused with 421 on every route, before authentication and the body', async () => {
    for (const [method, path] of ROUTES) {
      for (const host of ['attacker.example', `attacker.example:${port}`, `localhost.:${port}`]) {
        const r = await raw(g.url, path, {
          method,
          headers: { host, ...auth, 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify({ kind: 1, content: 'rebound' }) } : {}),
        });
        assert.equal(r.status, 421, `${method} ${path} with Host ${host}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'MISDIRECTED_REQUEST');
        assertSecurityHeaders(r, `421 ${path}`);
      }
    }
    // Not signed: nothing reached the gateway.
    const requests = await g.warden.store.db.selectFrom('request').select('id').execute();
    assert.equal(requests.length, 0);
    // Refused before the body is read: an oversized body is a 421, not a 413.
    const big = await raw(g.url, '/v1/nostr/sign', {
      method: 'POST',
      headers: { host: 'attacker.example', 'content-type': 'application/json' },
      body: 'x'.repeat(200_000),
    }).catch(() => null);
    if (big !== null) assert.equal(big.status, 421);
    // No Host at all names nothing of ours either (Node's parser answers 400 before we see it).
    const none = await raw(g.url, '/v1/health', { noHost: true });
    assert.ok([400, 421].includes(none.status), `no Host: ${none.status}`);
  });

  test('the loopback names with the bound port are answered; a wrong port or a bare name is not', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const r = await raw(g.url, '/v1/health', { headers: { host } });
      assert.equal(r.status, 200, `Host ${host}`);
      assert.deepEqual(r.body, { status: 'ok' });
      assertSecurityHeaders(r, `200 with Host ${host}`);
    }
    for (const host of ['localhost', '127.0.0.1', `127.0.0.1:${Number(port) + 1}`, `127.0.0.2:${port}`]) {
      const r = await raw(g.url, '/v1/health', { headers: { host } });
      assert.equal(r.status, 421, `Host ${host}`);
    }
  });

  test('any Origin is refused with 403 ORIGIN_NOT_ALLOWED by default, its own included', async () => {
    for (const [method, path] of ROUTES) {
      for (const origin of ['https://attacker.example', 'null', `http://127.0.0.1:${port}`]) {
        const r = await raw(g.url, path, {
          method,
          headers: { origin, ...auth, 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify({ kind: 1, content: 'from a page' }) } : {}),
        });
        assert.equal(r.status, 403, `${method} ${path} from ${origin}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'ORIGIN_NOT_ALLOWED');
        assert.equal(r.headers['access-control-allow-origin'], undefined);
        assertSecurityHeaders(r, `403 ${path}`);
      }
    }
    const requests = await g.warden.store.db.selectFrom('request').select('id').execute();
    assert.equal(requests.length, 0);
  });

  test('--allow-host names and --allow-origin origins are served, and only those', async () => {
    const server = await startHttpServer(g.gateway, {
      host: '127.0.0.1',
      port: 0,
      allowedHosts: ['warden.example', 'proxy.example:8443'],
      allowedOrigins: ['https://app.example'],
    });
    after(() => server.close());
    const p = server.port;
    for (const [host, status] of [
      ['warden.example', 200],
      [`warden.example:${p}`, 200],
      ['Warden.Example', 200],
      ['proxy.example:8443', 200],
      ['proxy.example', 421],
      [`proxy.example:${p}`, 421],
      ['evil.warden.example', 421],
      [`localhost:${p}`, 200],
    ] as const) {
      const r = await raw(server.url, '/v1/health', { headers: { host } });
      assert.equal(r.status, status, `Host ${host}`);
    }
    const allowed = await raw(server.url, '/v1/identities', {
      headers: { origin: 'https://app.example', ...auth },
    });
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example');
    assertSecurityHeaders(allowed, 'allowed origin');
    const preflight = await raw(server.url, '/v1/nostr/sign', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
    for (const origin of ['https://app.example:444', 'http://app.example', 'https://app.example.evil']) {
      const r = await raw(server.url, '/v1/health', { headers: { origin } });
      assert.equal(r.status, 403, origin);
    }
  });

  test('every answer carries the security headers: 200, 401, 404, 413, 429 and errors', async () => {
    const limited = await startTestGateway({
      identities: ['bob'],
      rateLimits: () => ({ max: 1, windowMs: 60_000 }),
    });
    const token = await limited.token('viewer');
    const read = () => raw(limited.url, '/v1/identities', { headers: { authorization: `Bearer ${token}` } });
    const answers: [string, RawResponse][] = [
      ['200', await raw(limited.url, '/v1/health')],
      ['401', await raw(limited.url, '/v1/identities')],
      ['404', await raw(limited.url, '/no/such/route')],
      [
        '413',
        await raw(limited.url, '/v1/nostr/sign', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(100_000) },
          body: 'x'.repeat(100_000),
        }),
      ],
    ];
    // One read a minute: the second is over the limit.
    await read();
    answers.push(['429', await read()]);
    // An answer the MCP transport builds itself (not through the app's context), and a refusal there.
    const agent = await limited.token('agent', { identity: 'bob', capabilities: ['nostr:sign'] });
    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'headers', version: '1' },
      },
    });
    const mcp = (authorization: Record<string, string>) =>
      raw(limited.url, '/mcp', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...authorization,
        },
        body: initialize,
      });
    // Without a token, after the 401 above: the failed-authentication throttle answers.
    answers.push(['MCP 200', await mcp({ authorization: `Bearer ${agent}` })], ['MCP 429', await mcp({})]);
    const statuses = answers.map(([, r]) => r.status);
    assert.deepEqual(
      statuses,
      [200, 401, 404, 413, 429, 200, 429],
      JSON.stringify(answers.map(([, r]) => r.body)),
    );
    for (const [what, r] of answers) assertSecurityHeaders(r, what);
    assert.equal(answers[3]![1].body.error.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(answers[4]![1].body.error.code, 'RATE_LIMITED');
  });
});
