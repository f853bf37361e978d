import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { isWardenError } from '../../../src/core/errors.ts';
import { createNet, readTextLimited } from '../../../src/net/http.ts';
import { listenOnLoopback } from '../../helpers/peer.ts';

const ctx = { identity: 'alice' };

/** A tiny HTTP server on 127.0.0.1 whose behaviour each request path chooses. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  return listenOnLoopback(server);
}

const base = await serve((req, res) => {
  if (req.url === '/echo') {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body, contentType: req.headers['content-type'] }));
    });
    return;
  }
  if (req.url === '/slow') return; // never answers
  if (req.url === '/slow-body') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    return; // the body never ends
  }
  if (req.url === '/redirect') {
    res.writeHead(302, { location: '/echo' });
    res.end();
    return;
  }
  if (req.url === '/big') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('x'.repeat(10_000));
    return;
  }
  if (req.url === '/big-chunked') {
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    for (let i = 0; i < 10; i++) res.write('y'.repeat(1_000));
    res.end();
    return;
  }
  res.writeHead(404);
  res.end('not here');
});

test('fetch reaches a loopback server when allowLoopback is set, with method, headers and body', async () => {
  const net = createNet({ allowLoopback: true });
  const response = await net.fetch(
    `${base}/echo`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
    ctx,
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    method: 'POST',
    body: '{"a":1}',
    contentType: 'application/json',
  });
  const missing = await net.fetch(`${base}/nope`, {}, { identity: null });
  assert.equal(missing.status, 404);
});

test('loopback hosts are refused by default, before any connection', async () => {
  const net = createNet();
  const hosts = [
    base,
    'http://localhost:1/',
    'http://LOCALHOST./x',
    'http://foo.localhost/',
    'http://127.1.2.3/',
    'http://2130706433/', // 127.0.0.1 as one number
    'http://0x7f.1/',
    'http://[::1]:8545/',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0/',
  ];
  for (const url of hosts) {
    await assert.rejects(net.fetch(url, {}, ctx), (e) => isWardenError(e, 'NET_URL_REFUSED'), url);
  }
});

test('only http: and https: URLs are fetched; URLs with credentials and garbage are refused', async () => {
  const net = createNet({ allowLoopback: true });
  for (const url of [
    'file:///etc/passwd',
    'ftp://example.com/',
    'data:text/plain,hi',
    'ws://127.0.0.1:1/',
    'javascript:alert(1)',
    'http://user:pass@127.0.0.1:1/',
    'not a url',
    '',
  ]) {
    await assert.rejects(net.fetch(url, {}, ctx), (e) => isWardenError(e, 'NET_URL_REFUSED'), url);
  }
});

test('a server that does not answer in time gives NET_UNREACHABLE (timeout) near the deadline', async () => {
  const net = createNet({ allowLoopback: true, timeoutMs: 300 });
  const started = performance.now();
  await assert.rejects(
    net.fetch(`${base}/slow`, {}, ctx),
    (e) => isWardenError(e, 'NET_UNREACHABLE') && e.details.reason === 'timeout',
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 5_000, `took ${elapsed} ms`);
});

test('the timeout also bounds reading the body', async () => {
  const net = createNet({ allowLoopback: true, timeoutMs: 300 });
  const response = await net.fetch(`${base}/slow-body`, {}, ctx);
  await assert.rejects(
    readTextLimited(response, 1_000_000),
    (e) => isWardenError(e, 'NET_UNREACHABLE') && e.details.reason === 'timeout',
  );
});

test('a closed port gives NET_UNREACHABLE (connect) and the error shows no URL path', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const net = createNet({ allowLoopback: true });
  await assert.rejects(net.fetch(`http://127.0.0.1:${port}/v2/SECRET-API-KEY`, {}, ctx), (e) => {
    assert.ok(isWardenError(e, 'NET_UNREACHABLE'));
    assert.equal(e.details.reason, 'connect');
    assert.equal(e.details.origin, `http://127.0.0.1:${port}`);
    assert.ok(!JSON.stringify({ m: e.message, d: e.details }).includes('SECRET'));
    return true;
  });
});

test('a caller abort signal is honoured', async () => {
  const net = createNet({ allowLoopback: true, timeoutMs: 10_000 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    net.fetch(`${base}/slow`, { signal: controller.signal }, ctx),
    (e) => isWardenError(e, 'NET_UNREACHABLE') && e.details.reason === 'aborted',
  );
});

test('redirects are not followed', async () => {
  const net = createNet({ allowLoopback: true });
  await assert.rejects(net.fetch(`${base}/redirect`, {}, ctx), (e) => isWardenError(e, 'NET_UNREACHABLE'));
});

test('readTextLimited refuses bodies over the limit, declared or streamed', async () => {
  const net = createNet({ allowLoopback: true });
  for (const path of ['/big', '/big-chunked']) {
    const response = await net.fetch(`${base}${path}`, {}, ctx);
    await assert.rejects(
      readTextLimited(response, 5_000),
      (e) => isWardenError(e, 'NET_UNREACHABLE') && e.details.reason === 'too_large',
      path,
    );
  }
  const ok = await net.fetch(`${base}/big`, {}, ctx);
  assert.equal((await readTextLimited(ok, 10_000)).length, 10_000);
});

test('createNet refuses a nonsensical timeout', () => {
  for (const timeoutMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => createNet({ timeoutMs }),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
    );
  }
});
