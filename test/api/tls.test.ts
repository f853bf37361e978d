import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { initCliVault } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

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
  skip: !hasOpenssl && 'openssl is not installed',
}, async () => {
  const { dir, run, start, pass } = await initCliVault('tls', TEST_PASSPHRASE);
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  assert.equal(made.status, 0, made.stderr.toString());
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
