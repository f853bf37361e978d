import assert from 'node:assert/strict';
import dns from 'node:dns';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { normalizeAllowedHost, normalizeAllowedOrigin } from '../../src/api/http/guards.ts';
import { resolveWardenConfig } from '../../src/config/warden-config.ts';
import { isWardenError, type WardenError } from '../../src/core/errors.ts';
import { createNet, type Route } from '../../src/net/http.ts';
import { probeIsolation } from '../../src/net/isolation-probe.ts';
import type { TorControl } from '../../src/net/tor-control.ts';
import { startManagedTor } from '../../src/net/tor-process.ts';
import { CONFIG_SECTIONS } from '../../src/protocols/config-sections.ts';
import { createEvmBackend, type EvmBackend } from '../../src/protocols/evm/backend.ts';
import { certainlyNotBroadcast } from '../../src/protocols/evm/broadcast-outcome.ts';
import { evmModule } from '../../src/protocols/evm/index.ts';
import { agentWithPolicy, initCliVault, runWarden } from '../helpers/cli.ts';
import { HARDHAT_CHAIN_ID, startHardhat } from '../helpers/hardhat.ts';
import { tempDir } from '../helpers/home.ts';
import { freePort } from '../helpers/peer.ts';
import { startTorNetwork } from '../helpers/tor-network.ts';

/**
 * The net layer against a real private Tor network on loopback (test/helpers/tor-network.ts):
 * client0 is Warden's tor, client1 hosts the onion services of the backends. Nothing here can pass
 * by going direct: the onion names resolve nowhere but in Tor, and the last test stops Tor under a
 * target that is directly reachable.
 */
const [tor, hardhat] = await Promise.all([startTorNetwork({ clients: 2 }), startHardhat()]);
const [warden, host] = tor.clients as [(typeof tor.clients)[0], (typeof tor.clients)[0]];
const route: Route = { via: 'tor', socks: warden.socks };

/** A loopback web server that counts what reaches it (by path). */
const seen: IncomingMessage[] = [];
const web = createServer((req, res) => {
  seen.push(req);
  res.setHeader('content-type', 'text/plain');
  res.end(`hello ${req.url}`);
});
await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
after(() => new Promise<void>((resolve) => web.close(() => resolve())));
const webPort = (web.address() as AddressInfo).port;
const hardhatPort = Number(new URL(hardhat.rpcUrl).port);

// The onion service of both backends, hosted by client1 (kept while its control connection lives).
const hostControl = await host.controller();
const added = await hostControl.command(
  `ADD_ONION NEW:ED25519-V3 Flags=DiscardPK Port=80,127.0.0.1:${webPort} Port=8545,127.0.0.1:${hardhatPort}`,
);
const onion = `${/^ServiceID=([a-z2-7]{56})$/.exec(added[0] ?? '')?.[1]}.onion`;
assert.match(onion, /^[a-z2-7]{56}\.onion$/);

// Warden's tor: a name only it knows (mapped to loopback at the exit), and every stream's circuit.
const control: TorControl = await warden.controller();
await control.command('MAPADDRESS web.test=127.0.0.1');
const streams: string[] = [];
control.onEvent((line) => {
  if (line.startsWith('STREAM ')) streams.push(line);
});
await control.command('SETEVENTS STREAM');

const torNet = createNet({ route, timeoutMs: 30_000 });

/** Retries while the onion descriptor is not yet published (it uploads ~1 s after ADD_ONION). */
async function untilPublished<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Counts every name lookup made through node:dns (what net.connect uses) while `fn` runs. */
async function countLookups(fn: () => Promise<void>): Promise<number> {
  let count = 0;
  const lookup = dns.lookup;
  const promisesLookup = dns.promises.lookup;
  dns.lookup = ((...args: Parameters<typeof dns.lookup>) => {
    count++;
    return (lookup as (...a: unknown[]) => void)(...args);
  }) as typeof dns.lookup;
  dns.promises.lookup = ((...args: Parameters<typeof dns.promises.lookup>) => {
    count++;
    return promisesLookup(...args);
  }) as typeof dns.promises.lookup;
  try {
    await fn();
  } finally {
    dns.lookup = lookup;
    dns.promises.lookup = promisesLookup;
  }
  return count;
}

/** The circuit the next stream to `web.test` succeeded on (STREAM event field 4). */
async function circuitOf(identity: string | null): Promise<string> {
  const from = streams.length;
  const response = await torNet.fetch(`http://web.test:${webPort}/circuit`, {}, { identity });
  assert.equal(await response.text(), 'hello /circuit');
  for (let i = 0; i < 50; i++) {
    const line = streams.slice(from).find((l) => / SUCCEEDED /.test(l) && l.includes(`:${webPort}`));
    if (line) return line.split(' ')[3]!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no STREAM SUCCEEDED event: ${streams.slice(from).join(' | ')}`);
}

test(`the tor network is ready (${tor.readyMs} ms) and an onion-only backend is reached through it`, async () => {
  const response = await untilPublished(() =>
    torNet.fetch(`http://${onion}/hello`, {}, { identity: 'alice' }),
  );
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'hello /hello');
});

/**
 * warden.yaml naming Tor behind `socksPort` (and, given a client, its control port) and the EVM
 * node that exists only as the onion service.
 */
function yamlWithOnionNode(socksPort: number, control?: (typeof tor.clients)[0]): string {
  return [
    'tor:',
    `  socks: 127.0.0.1:${socksPort}`,
    ...(control ? [`  control: 127.0.0.1:${control.control.port}`, `  cookie: ${control.cookieFile}`] : []),
    'protocols:',
    '  evm:',
    '    rpc:',
    `      ${HARDHAT_CHAIN_ID}: http://${onion}:8545/`,
  ].join('\n');
}

test('the EVM backend, configured with a tor section, reaches a node that exists only as an onion service', async () => {
  const config = resolveWardenConfig(
    yamlWithOnionNode(warden.socks.port),
    { path: '/etc/warden/warden.yaml', source: 'home' },
    {
      sections: CONFIG_SECTIONS,
      normalize: { allowedHost: normalizeAllowedHost, allowedOrigin: normalizeAllowedOrigin },
    },
  );
  assert.deepEqual(config.tor?.socks, warden.socks);
  const backend = evmModule.backend?.(config.protocols.evm) as EvmBackend;
  const rpc = backend.rpc(HARDHAT_CHAIN_ID, 'alice');
  assert.equal(await untilPublished(() => rpc.chainId()), HARDHAT_CHAIN_ID);
  assert.equal(typeof (await rpc.feeEstimate()).maxFeePerGas, 'bigint');
});

test('zero local name lookups in Tor mode (a DNS canary on node:dns), and the canary does count direct ones', async () => {
  const viaTor = await countLookups(async () => {
    const named = await torNet.fetch(`http://web.test:${webPort}/named`, {}, { identity: 'alice' });
    assert.equal(await named.text(), 'hello /named');
    const onionReply = await torNet.fetch(`http://${onion}/onion`, {}, { identity: 'bob' });
    assert.equal(await onionReply.text(), 'hello /onion');
  });
  assert.equal(viaTor, 0);
  const direct = createNet({ allowLoopback: true });
  const viaDirect = await countLookups(async () => {
    const r = await direct.fetch(`http://localhost:${webPort}/direct`, {}, { identity: 'alice' });
    await r.text();
  });
  assert.ok(viaDirect >= 1, `the canary saw ${viaDirect} lookups of a direct request to a name`);
});

test("two identities' requests go out on different circuits, which Tor names by nonces, never identities", async () => {
  const alice = await circuitOf('alice');
  const bob = await circuitOf('bob');
  const own = await circuitOf(null);
  assert.notEqual(alice, bob);
  assert.notEqual(own, alice);
  assert.notEqual(own, bob);
  // Alice again: Tor usually reuses her circuit, but may have built her a fresh one (a circuit
  // that failed or aged out under load); either way it is never one of the others'.
  const aliceAgain = await circuitOf('alice');
  assert.notEqual(aliceAgain, bob);
  assert.notEqual(aliceAgain, own);
  const status = await control.getInfo('circuit-status');
  const usernames = [...status.matchAll(/SOCKS_USERNAME="([^"]*)"/g)].map((m) => m[1]);
  assert.ok(usernames.length >= 3, status);
  for (const u of usernames) assert.match(u ?? '', /^[0-9a-f]{32}$/);
  assert.doesNotMatch(status, /alice|bob/);
});

/** The SOCKS username (Warden's isolation nonce) of a circuit in Tor's circuit-status, if it is open. */
async function usernameOf(circuit: string): Promise<string | undefined> {
  const status = await control.getInfo('circuit-status');
  const line = status.split('\n').find((l) => l.startsWith(`${circuit} `));
  return line?.match(/SOCKS_USERNAME="([^"]*)"/)?.[1];
}

test("rotating one identity changes its circuit and no other's (no NEWNYM)", async () => {
  const alice = await circuitOf('alice');
  const bob = await circuitOf('bob');
  const aliceUser = await usernameOf(alice);
  const bobUser = await usernameOf(bob);
  assert.ok(aliceUser && bobUser);
  torNet.rotate('alice');
  const alice2 = await circuitOf('alice');
  assert.notEqual(alice2, alice);
  assert.notEqual(alice2, bob);
  const alice2User = await usernameOf(alice2);
  assert.ok(alice2User && alice2User !== aliceUser && alice2User !== bobUser);
  // Bob keeps his isolation key. Tor usually keeps him on his circuit, but may replace it on its
  // own (one that failed or aged out on the loaded test network, seen in CI): his next circuit, the
  // same or not, carries his same nonce.
  assert.equal(await usernameOf(await circuitOf('bob')), bobUser);
  assert.equal(await usernameOf(await circuitOf('alice')), alice2User);
});

/** `warden doctor --json` with warden.yaml naming Warden's tor (client0): status per check id. */
const doctorHome = await initCliVault('tor-doctor', 'doctor passphrase long enough');
async function doctorVerdicts(): Promise<{ code: number; status: Map<string, string> }> {
  writeFileSync(
    join(doctorHome.home, 'warden.yaml'),
    `tor:\n  socks: 127.0.0.1:${warden.socks.port}\n  control: 127.0.0.1:${warden.control.port}\n  cookie: ${warden.cookieFile}\n`,
    { mode: 0o600 },
  );
  const r = await runWarden(['--home', doctorHome.home, '--json', 'doctor']);
  const checks = (JSON.parse(r.stdout) as { checks: { id: string; status: string }[] }).checks;
  return { code: r.code, status: new Map(checks.map((c) => [c.id, c.status])) };
}

test('warden doctor against the running tor: reachable, bootstrapped, isolating by SOCKS auth', async () => {
  const { code, status } = await doctorVerdicts();
  assert.equal(code, 0);
  for (const id of ['tor.configured', 'tor.reachable', 'tor.bootstrapped', 'tor.isolation', 'routes.direct'])
    assert.equal(status.get(id), 'PASS', id);
});

async function doctorIsolation(yaml: string): Promise<{ status: string; message: string }> {
  writeFileSync(join(doctorHome.home, 'warden.yaml'), yaml, { mode: 0o600 });
  const r = await runWarden(['--home', doctorHome.home, '--json', 'doctor']);
  const checks = (JSON.parse(r.stdout) as { checks: { id: string; status: string; message: string }[] })
    .checks;
  const check = checks.find((c) => c.id === 'tor.isolation');
  assert.ok(check, r.stdout);
  return check;
}

test("doctor's isolation check, live: two test streams to the Tor-routed backend, two circuits", async () => {
  await untilPublished(() => torNet.fetch(`http://${onion}:8545/`, { method: 'POST' }, { identity: null }));
  const check = await doctorIsolation(yamlWithOnionNode(warden.socks.port, warden));
  assert.equal(check.status, 'PASS', check.message);
  assert.match(check.message, /^two identities' test streams went out on two circuits \(\d+ and \d+\)$/);
});

test('a SocksPort that does not isolate by SOCKS auth: the live test sees one circuit for both streams, doctor FAILs it', async () => {
  // client1 gets a second SocksPort with NoIsolateSOCKSAuth (its first one stays as it was).
  const hostControl = await host.controller();
  const shared = await freePort();
  await hostControl.command(
    `SETCONF SocksPort="127.0.0.1:${host.socks.port}" SocksPort="127.0.0.1:${shared} NoIsolateSOCKSAuth"`,
  );
  try {
    const probe = await probeIsolation({
      socks: { host: '127.0.0.1', port: shared },
      control: host.control,
      cookieFile: host.cookieFile,
      target: { host: onion, port: 8545 },
    });
    assert.ok(probe.ok, JSON.stringify(probe));
    assert.equal(probe.separate, false);
    // The isolating port of the same tor, the same target: two circuits.
    const isolating = await probeIsolation({
      socks: host.socks,
      control: host.control,
      cookieFile: host.cookieFile,
      target: { host: onion, port: 8545 },
    });
    assert.ok(isolating.ok && isolating.separate, JSON.stringify(isolating));
    // doctor fails such a port by its flags, whatever one try of two circuits would show.
    const check = await doctorIsolation(yamlWithOnionNode(shared, host));
    assert.equal(check.status, 'FAIL', check.message);
    assert.match(check.message, /NoIsolateSOCKSAuth/);
    // The SocksPort and control port of two different tors: the live test cannot conclude.
    const mixed = await doctorIsolation(yamlWithOnionNode(host.socks.port, warden));
    assert.equal(mixed.status, 'WARN', mixed.message);
    assert.match(mixed.message, /same tor/);
  } finally {
    await hostControl.command(`SETCONF SocksPort="127.0.0.1:${host.socks.port}"`);
    hostControl.close();
  }
});

test("Warden's managed tor: a torrc in the home (0600, data 0700, isolation, cookie auth) and requests through it", async () => {
  const dir = join(tempDir('managed-tor'), 'tor');
  const socks = { host: '127.0.0.1', port: await freePort() };
  const managed = await startManagedTor({
    dir,
    socks,
    control: { host: '127.0.0.1', port: await freePort() },
    extraTorrc: tor.joinTorrc,
  });
  try {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(managed.dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(managed.torrc).mode & 0o777, 0o600);
    const torrc = readFileSync(managed.torrc, 'utf8');
    assert.match(torrc, new RegExp(`^SocksPort 127\\.0\\.0\\.1:${socks.port} IsolateSOCKSAuth$`, 'm'));
    assert.match(torrc, /^CookieAuthentication 1$/m);
    assert.match(torrc, new RegExp(`^__OwningControllerProcess ${process.pid}$`, 'm'));
    await managed.bootstrapped(60_000);
    const own = createNet({ route: { via: 'tor', socks }, timeoutMs: 30_000 });
    const reply = await untilPublished(() => own.fetch(`http://${onion}/managed`, {}, { identity: 'carol' }));
    assert.equal(await reply.text(), 'hello /managed');
  } finally {
    await managed.stop();
  }
  const after = createNet({ route: { via: 'tor', socks } });
  await assert.rejects(after.fetch(`http://${onion}/x`, {}, { identity: 'carol' }), (err) =>
    isWardenError(err, 'TOR_UNAVAILABLE'),
  );
});

/**
 * A running server (`warden start`, its backend the EVM node that exists only as an onion service)
 * and the operator's `warden identity rotate NAME --circuits` from another process: the server
 * follows the audit log and alice's next request leaves on a new circuit with a new nonce, bob's
 * on his same one. Each identity's dry-run of a send without fees asks the node for its estimate.
 */
test("`warden identity rotate --circuits` while the server runs: alice's next request on a new circuit, bob's not", async () => {
  const cli = await initCliVault('tor-rotate', 'rotate passphrase long enough');
  writeFileSync(join(cli.home, 'warden.yaml'), yamlWithOnionNode(warden.socks.port), { mode: 0o600 });
  const policy = `version: 1\nname: dry\nrisk: { tolerance: high }\nrules:\n  - id: sends\n    match: { protocol: evm }\n    effect: allow\n`;
  const tokens: Record<string, string> = {};
  for (const name of ['alice', 'bob']) {
    assert.equal((await cli.w('identity', 'create', name, '--network', 'regtest')).code, 0);
    tokens[name] = await agentWithPolicy(cli.w, cli.dir, name, policy, 'evm:send');
  }
  const server = await cli.start('--fee-follow', '0');
  try {
    /** The circuit and its nonce of the node's stream for one dry run of `identity`'s. */
    const circuitOfDryRun = async (identity: string) => {
      const from = streams.length;
      const body = {
        operation: 'evm.send',
        request: { chainId: HARDHAT_CHAIN_ID, to: `0x${'33'.repeat(20)}`, value: '1' },
      };
      const r = await untilPublished(async () => {
        const res = await fetch(`${server.url}/v1/dry-run`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[identity]}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (res.status !== 200) throw new Error(`dry run ${res.status}: ${await res.text()}`);
        return res;
      });
      await r.text();
      const line = streams
        .slice(from)
        .reverse()
        .find((l) => / SUCCEEDED /.test(l) && l.includes(`${onion}:8545`));
      assert.ok(line, `no stream to the node: ${streams.slice(from).join(' | ')}`);
      const circuit = line.split(' ')[3]!;
      return { circuit, nonce: await usernameOf(circuit) };
    };
    const alice = await circuitOfDryRun('alice');
    const bob = await circuitOfDryRun('bob');
    assert.ok(alice.nonce && bob.nonce && alice.nonce !== bob.nonce, JSON.stringify({ alice, bob }));
    assert.notEqual(alice.circuit, bob.circuit);

    const rotated = await cli.w('--json', 'identity', 'rotate', 'alice', '--circuits');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(JSON.parse(rotated.stdout).serverRunning, true);
    // The server follows the log every second.
    await new Promise((r) => setTimeout(r, 2_500));
    const alice2 = await circuitOfDryRun('alice');
    assert.ok(alice2.nonce && alice2.nonce !== alice.nonce && alice2.nonce !== bob.nonce);
    assert.notEqual(alice2.circuit, alice.circuit);
    assert.notEqual(alice2.circuit, bob.circuit);
    assert.equal((await circuitOfDryRun('bob')).nonce, bob.nonce, 'bob keeps his isolation');

    // A key rotation by the CLI: alice's very next request, without waiting for the server's
    // second, already leaves on new circuits (the server saw the new keystore before sending it).
    assert.equal((await cli.w('identity', 'rotate', 'alice', '--seed')).code, 0);
    const alice3 = await circuitOfDryRun('alice');
    assert.ok(alice3.nonce && alice3.nonce !== alice2.nonce && alice3.nonce !== bob.nonce);
    assert.equal((await circuitOfDryRun('bob')).nonce, bob.nonce, 'bob keeps his isolation still');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('Tor stopped mid-run: requests fail closed with TOR_UNAVAILABLE and nothing goes direct', async () => {
  // A target a direct fallback would reach at once: loopback, by IP.
  const target = createNet({ route, allowLoopback: true, timeoutMs: 30_000 });
  const before = (await target.fetch(`http://127.0.0.1:${webPort}/before`, {}, { identity: 'alice' })).status;
  assert.equal(before, 200);
  const evm = createNet({ route, timeoutMs: 30_000 });
  const count = seen.length;
  await warden.kill();
  const refused = async (fn: () => Promise<unknown>): Promise<WardenError> => {
    try {
      await fn();
    } catch (err) {
      if (isWardenError(err)) return err;
      throw err;
    }
    assert.fail('the request succeeded with Tor stopped');
  };
  const direct = await refused(() =>
    target.fetch(`http://127.0.0.1:${webPort}/after`, {}, { identity: 'alice' }),
  );
  assert.equal(direct.code, 'TOR_UNAVAILABLE');
  assert.equal(direct.details.sent, false);
  const viaOnion = await refused(() => evm.fetch(`http://${onion}/after`, {}, { identity: 'bob' }));
  assert.equal(viaOnion.code, 'TOR_UNAVAILABLE');
  assert.equal(seen.length, count, 'nothing reached the target after Tor stopped');
  const doctor = await doctorVerdicts();
  assert.equal(doctor.code, 1);
  assert.equal(doctor.status.get('tor.reachable'), 'FAIL');
  assert.equal(doctor.status.get('tor.bootstrapped'), 'FAIL');
  // An EVM call refused this way names Tor, and a broadcast failing so is certainly not broadcast.
  const backend = createEvmBackend(new Map([[HARDHAT_CHAIN_ID, `http://${onion}:8545/`]]), { route });
  const rpcError = await refused(() => backend!.rpc(HARDHAT_CHAIN_ID, 'alice').chainId());
  assert.equal(rpcError.code, 'TOR_UNAVAILABLE');
  assert.equal(certainlyNotBroadcast(rpcError), true);
});
