import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyEvent } from 'nostr-tools';
import type { Check } from '../../src/cli/actions/doctor-check.ts';
import { onionServiceId } from '../../src/keys/onion-service-key.ts';
import { createNet } from '../../src/net/http.ts';
import { agentWithPolicy, initCliVault, runWarden, type ServerProcess } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';
import { nostrNotesPolicy } from '../helpers/policies.ts';
import { startTorNetwork } from '../helpers/tor-network.ts';

/**
 * `warden start --onion` against a private Tor network on loopback: client0 is Warden's tor (its
 * control port publishes the service), client1 a stranger's tor that reaches the API only by its
 * onion address. Nothing else could answer: the address resolves nowhere but in Tor.
 */
const tor = await startTorNetwork({ clients: 2 });
const [wardenTor, stranger] = tor.clients as [(typeof tor.clients)[0], (typeof tor.clients)[0]];
const vault = await initCliVault('onion', TEST_PASSPHRASE);
writeFileSync(
  join(vault.home, 'warden.yaml'),
  `tor:\n  socks: 127.0.0.1:${wardenTor.socks.port}\n  control: 127.0.0.1:${wardenTor.control.port}\n  cookie: ${wardenTor.cookieFile}\n`,
  { mode: 0o600 },
);
assert.equal((await vault.w('identity', 'create', 'alice')).code, 0);
const token = await agentWithPolicy(vault.w, vault.dir, 'alice', nostrNotesPolicy('notes', 100));
const strangerNet = createNet({ route: { via: 'tor', socks: stranger.socks }, timeoutMs: 30_000 });

function onionOf(server: ServerProcess): string {
  const m = /onion service: http:\/\/([a-z2-7]{56}\.onion)\//.exec(server.output());
  assert.ok(m, server.output());
  return m[1]!;
}

/** Retries while the descriptor is not yet published (Tor uploads it shortly after ADD_ONION). */
async function untilReached(url: string, init: RequestInit = {}): Promise<Response> {
  const deadline = performance.now() + 90_000;
  for (;;) {
    try {
      return await strangerNet.fetch(url, init, { identity: null });
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

let firstAddress = '';

test(`a stranger's Tor client reaches the API's onion service and gets a signature through it (network ready in ${tor.readyMs} ms)`, async () => {
  const server = await vault.start('--onion');
  try {
    const address = await waitForOnion(server);
    firstAddress = address;
    const health = await untilReached(`http://${address}/v1/health`);
    assert.equal(health.status, 200, 'the Host check accepts the onion name');
    const signed = await untilReached(`http://${address}/v1/nostr/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 1, content: 'signed through an onion service' }),
    });
    const body = (await signed.json()) as {
      request: { result: { event: Parameters<typeof verifyEvent>[0] } };
    };
    assert.equal(signed.status, 200, JSON.stringify(body));
    assert.equal(verifyEvent(body.request.result.event), true);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('the address is the same after a restart (the key is the vault’s), and Tor dropped it at the stop', async () => {
  assert.ok(firstAddress);
  const control = await wardenTor.controller();
  try {
    // The service lived on Warden's control connection, now closed: Tor no longer serves it.
    const detached = await control.getInfo('onions/detached');
    assert.ok(!detached.includes(firstAddress.slice(0, 56)), detached);
  } finally {
    control.close();
  }
  const server = await vault.start('--onion');
  try {
    assert.equal(await waitForOnion(server), firstAddress);
    assert.equal((await untilReached(`http://${firstAddress}/v1/health`)).status, 200);
  } finally {
    await server.stop();
  }
});

/** `warden doctor --json`'s onion.service check on the vault's home. */
async function onionCheck(): Promise<Check> {
  const r = await runWarden(['--home', vault.home, '--json', 'doctor']);
  const out = JSON.parse(r.stdout) as { checks: Check[] };
  const check = out.checks.find((c) => c.id === 'onion.service');
  assert.ok(check, r.stdout);
  return check;
}

test('warden doctor: listen.onion publishes without the flag; PASS while Tor hosts it, WARN once stopped, FAIL for an address Tor does not host', async () => {
  const yaml = join(vault.home, 'warden.yaml');
  const torOnly = readFileSync(yaml, 'utf8');
  writeFileSync(yaml, `${torOnly}listen:\n  onion: true\n`, { mode: 0o600 });
  try {
    const server = await vault.start();
    try {
      const address = await waitForOnion(server);
      assert.equal(address, firstAddress, 'the same service as --onion');
      // Tor builds the descriptor shortly after ADD_ONION.
      let check = await onionCheck();
      for (let i = 0; i < 20 && check.status !== 'PASS'; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        check = await onionCheck();
      }
      assert.equal(check.status, 'PASS', JSON.stringify(check));
      assert.ok(check.message.includes(address), check.message);
      const status = await vault.w('--json', 'status', '--passphrase-file', vault.pass);
      assert.deepEqual(JSON.parse(status.stdout).onion, { address, published: true });
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.equal(existsSync(join(vault.home, 'server.onion')), false, 'removed at the stop');
    const after = await vault.w('--json', 'status', '--passphrase-file', vault.pass);
    assert.deepEqual(JSON.parse(after.stdout).onion, { address: firstAddress, published: false });
    const stopped = await onionCheck();
    assert.equal(stopped.status, 'WARN', JSON.stringify(stopped));
    assert.match(stopped.fix ?? '', /warden start/);

    // A server (this process stands in for it) naming an address this tor does not host.
    const other = onionServiceId(new Uint8Array(32).fill(7));
    writeFileSync(join(vault.home, 'server.onion'), `${other}.onion\n`, { mode: 0o600 });
    writeFileSync(join(vault.home, 'server.pid'), `${process.pid}\n`, { mode: 0o600 });
    const bogus = await onionCheck();
    assert.equal(bogus.status, 'FAIL', JSON.stringify(bogus));
    assert.match(bogus.message, /Tor does not host it/);
  } finally {
    rmSync(join(vault.home, 'server.onion'), { force: true });
    rmSync(join(vault.home, 'server.pid'), { force: true });
    writeFileSync(yaml, torOnly, { mode: 0o600 });
  }
  assert.equal((await onionCheck()).status, 'PASS', 'nothing asked: nothing to publish');
  // What a killed server leaves behind: the next start (holding the lock) removes it.
  const leftover = join(vault.home, 'server.onion');
  writeFileSync(leftover, `${firstAddress}\n`, { mode: 0o600 });
  const plain = await vault.start();
  try {
    assert.equal(existsSync(leftover), false);
    assert.equal((await onionCheck()).status, 'PASS');
  } finally {
    assert.equal(await plain.stop(), 0);
  }
});

test('--onion without a control port refuses to start, with the fix', async () => {
  const bare = await initCliVault('onion-bare', TEST_PASSPHRASE);
  const started = await bare.run('start', '--port', '0', '--passphrase-file', bare.pass, '--onion');
  assert.notEqual(started.code, 0);
  assert.match(started.stderr + started.stdout, /CONFIG_INVALID[\s\S]*--onion needs Tor's control port/);
});

/** The onion line comes right after the listening line; waits for it. */
async function waitForOnion(server: ServerProcess): Promise<string> {
  const deadline = performance.now() + 30_000;
  while (!/onion service: http:\/\//.test(server.output())) {
    if (performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return onionOf(server);
}

test.after(() => tor.stop());
