import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isWardenError } from '../../src/core/errors.ts';
import { createNet } from '../../src/net/http.ts';
import { spkiPinOf } from '../../src/net/pin.ts';
import { selfSignedCertificate } from '../helpers/certificate.ts';
import { tempDir } from '../helpers/home.ts';

/**
 * TLS through the net layer against a real HTTPS server on loopback: verification is always on (a
 * certificate no CA vouches for is refused), and with the server's CA trusted (NODE_EXTRA_CA_CERTS,
 * read at start, hence a child process) the SPKI pin decides, before any byte of the request.
 */
const dir = tempDir('tls');
const { certFile, keyFile } = selfSignedCertificate(dir, { cn: '127.0.0.1', altNames: ['IP:127.0.0.1'] });
let requests = 0;
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (_req, res) => {
  requests++;
  res.end('pinned ok');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
const pin = spkiPinOf(new X509Certificate(readFileSync(certFile)));
const HTTP_TS = fileURLToPath(new URL('../../src/net/http.ts', import.meta.url));

/** Runs one fetch in a child that trusts the test certificate; its outcome as JSON. */
function childFetch(
  pins: string[],
): Promise<{ status?: number; body?: string; code?: string; sent?: boolean }> {
  const script = `
    const { createNet } = await import(${JSON.stringify(HTTP_TS)});
    const net = createNet({ allowLoopback: true, pins: new Map([[${JSON.stringify(origin)}, ${JSON.stringify(pins)}]]) });
    try {
      const r = await net.fetch(${JSON.stringify(`${origin}/x`)}, {}, { identity: 'alice' });
      console.log(JSON.stringify({ status: r.status, body: await r.text() }));
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, sent: e.details?.sent }));
    }`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: certFile }, timeout: 30_000 },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '{}'))),
    ),
  );
}

test('a certificate no trusted CA vouches for is refused, and nothing is sent', async () => {
  const net = createNet({ allowLoopback: true });
  await assert.rejects(net.fetch(`${origin}/x`, {}, { identity: 'alice' }), (err) => {
    assert.ok(isWardenError(err, 'NET_UNREACHABLE'));
    assert.equal(err.details.reason, 'tls');
    assert.equal(err.details.sent, false);
    return true;
  });
  assert.equal(requests, 0);
});

test('with the CA trusted: the pinned key is accepted; another pin refuses before the request', async () => {
  assert.deepEqual(await childFetch([pin]), { status: 200, body: 'pinned ok' });
  assert.equal(requests, 1);
  const other = `${'B'.repeat(43)}=`;
  assert.deepEqual(await childFetch([other]), { code: 'NET_PIN_MISMATCH', sent: false });
  assert.equal(requests, 1, 'the server saw no request under the wrong pin');
  assert.deepEqual(await childFetch([other, pin]), { status: 200, body: 'pinned ok' }, 'any of the pins');
});
