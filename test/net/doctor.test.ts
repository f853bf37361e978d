import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Check } from '../../src/cli/actions/doctor-check.ts';
import { initCliVault, runWarden } from '../helpers/cli.ts';

/**
 * `warden doctor` without Tor (tor.test.ts runs it against a real tor): each check's verdict
 * follows the home and warden.yaml, and a FAIL makes the exit code 1.
 */
const vault = await initCliVault('doctor', 'doctor passphrase long enough');

async function doctor(yaml: string | null) {
  const file = join(vault.home, 'warden.yaml');
  writeFileSync(file, yaml ?? '', { mode: 0o600 });
  const result = await runWarden(['--home', vault.home, '--json', 'doctor']);
  const out = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
  const byId = new Map(out.checks.map((c) => [c.id, c]));
  return { code: result.code, ok: out.ok, byId };
}

test('a fresh home without Tor: WARN on Tor, PASS elsewhere, exit 0; every WARN says what to do', async () => {
  const r = await doctor(null);
  assert.equal(r.code, 0);
  assert.equal(r.ok, true);
  assert.equal(r.byId.get('tor.configured')?.status, 'WARN');
  assert.match(r.byId.get('tor.configured')?.fix ?? '', /tor: \{managed: true\}/);
  for (const id of ['routes.direct', 'api.bind', 'files.permissions', 'debug.off', 'audit.chain'])
    assert.equal(r.byId.get(id)?.status, 'PASS', `${id}: ${r.byId.get(id)?.message}`);
});

test('FAILs: a direct route allowed, the API on all interfaces without TLS, a file others can read; exit 1', async () => {
  const r = await doctor(
    'listen:\n  host: 0.0.0.0\ntor:\n  socks: 127.0.0.1:9\nunsafe:\n  allow_direct_backends: true\n  allow_loopback_rpc: true\n',
  );
  assert.equal(r.code, 1);
  assert.equal(r.ok, false);
  assert.equal(r.byId.get('routes.direct')?.status, 'FAIL');
  assert.equal(r.byId.get('api.bind')?.status, 'FAIL');
  assert.equal(r.byId.get('tor.reachable')?.status, 'FAIL', 'nothing listens on port 9');
  assert.match(r.byId.get('debug.off')?.message ?? '', /unsafe\.allow_loopback_rpc/);

  chmodSync(join(vault.home, 'keystore.json'), 0o644);
  try {
    const open = await doctor(null);
    assert.equal(open.byId.get('files.permissions')?.status, 'FAIL');
    assert.match(open.byId.get('files.permissions')?.message ?? '', /keystore\.json/);
    assert.equal(open.code, 1);
  } finally {
    chmodSync(join(vault.home, 'keystore.json'), 0o600);
  }
});

test('a managed tor that is not running is a WARN (it runs with `warden start`), not a FAIL', async () => {
  const r = await doctor('tor:\n  managed: true\n  socks: 127.0.0.1:9\n  control: 127.0.0.1:9\n');
  assert.equal(r.byId.get('tor.reachable')?.status, 'WARN');
  assert.match(r.byId.get('tor.reachable')?.fix ?? '', /warden start/);
  assert.equal(r.code, 0);
});

test('an onion service asked (listen.onion) without a Tor control port: FAIL with the fix; nothing asked: PASS', async () => {
  const none = await doctor(null);
  assert.equal(none.byId.get('onion.service')?.status, 'PASS');
  const r = await doctor('listen:\n  onion: true\n');
  assert.equal(r.byId.get('onion.service')?.status, 'FAIL');
  assert.match(r.byId.get('onion.service')?.fix ?? '', /tor\.control and tor\.cookie|tor\.managed/);
  assert.equal(r.code, 1);
});
