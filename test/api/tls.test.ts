import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { test } from 'node:test';
import { HAS_OPENSSL, selfSignedCertificate } from '../helpers/certificate.ts';
import { initCliVault } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('warden start serves the API over TLS with --tls-cert/--tls-key', {
  skip: !HAS_OPENSSL && 'openssl is not installed',
}, async () => {
  const { dir, run, start, pass } = await initCliVault('tls', TEST_PASSPHRASE);
  const { certFile: cert, keyFile: key } = selfSignedCertificate(dir, {
    cn: 'localhost',
    altNames: ['DNS:localhost', 'IP:127.0.0.1'],
  });
  const server = await start('--tls-cert', cert, '--tls-key', key);
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const health = await httpsGet(`${server.url}/v1/health`, readFileSync(cert));
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
  // Plain HTTP to the TLS port gets no API answer.
  await assert.rejects(fetch(`${server.url.replace('https', 'http')}/v1/health`));
  assert.equal(await server.stop(), 0);
  const half = await run('start', '--port', '0', '--passphrase-file', pass, '--tls-cert', cert);
  assert.equal(half.code, 2);
});
