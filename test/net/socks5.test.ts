import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { isWardenError, type WardenError } from '../../src/core/errors.ts';
import { createNet } from '../../src/net/http.ts';
import { createIsolation } from '../../src/net/isolation.ts';
import { spkiPinOf } from '../../src/net/pin.ts';
import { socksConnect } from '../../src/net/socks5.ts';
import { selfSignedCertificate } from '../helpers/certificate.ts';
import { tempDir } from '../helpers/home.ts';
import { freePort } from '../helpers/peer.ts';

/**
 * The SOCKS5 client's wire format and its refusals, against a scripted hostile proxy on loopback
 * (the real Tor is in tor.test.ts): what it sends, and that every misbehaviour ends in a stable
 * code with nothing of the request written.
 */
interface Seen {
  bytes: Buffer;
}

/** A proxy that records what it receives and answers with `script(received so far)`. */
async function proxy(
  script: (received: Buffer, socket: Socket) => void,
): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((socket) => {
    const entry = { bytes: Buffer.alloc(0) };
    seen.push(entry);
    socket.on('data', (d: Buffer) => {
      entry.bytes = Buffer.concat([entry.bytes, d]);
      script(entry.bytes, socket);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, seen };
}

async function refused(fn: () => Promise<unknown>): Promise<WardenError> {
  try {
    await fn();
  } catch (err) {
    if (isWardenError(err)) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

const connectTo = (port: number, host = 'node.example', signal = AbortSignal.timeout(5_000)) =>
  socksConnect({
    proxy: { host: '127.0.0.1', port },
    host,
    port: 8545,
    username: 'u1',
    password: 'p1',
    signal,
  });

/** Answers a well-behaved handshake up to CONNECT, then `reply` as the CONNECT status. */
function upToConnect(reply: number) {
  return (b: Buffer, s: Socket) => {
    if (b.length === 3) s.write(Buffer.from([5, 2]));
    else if (b.length === 3 + 3 + 2 + 2) s.write(Buffer.from([1, 0]));
    else if (b.length > 10) s.write(Buffer.from([5, reply, 0, 1, 0, 0, 0, 0, 0, 0]));
  };
}

test('the destination name goes to the proxy (ATYP=DOMAIN), with the credentials; only auth method 2 is offered', async () => {
  const p = await proxy(upToConnect(0));
  const socket = await connectTo(p.port);
  socket.destroy();
  const bytes = p.seen[0]!.bytes;
  assert.deepEqual([...bytes.subarray(0, 3)], [5, 1, 2], 'one method: username/password');
  assert.deepEqual([...bytes.subarray(3, 10)], [1, 2, ...Buffer.from('u1'), 2, ...Buffer.from('p1')]);
  const request = bytes.subarray(10);
  assert.deepEqual([...request.subarray(0, 5)], [5, 1, 0, 3, 'node.example'.length]);
  assert.equal(request.subarray(5, 5 + 12).toString(), 'node.example');
  assert.equal(request.readUInt16BE(17), 8545);
});

test('IP literals go as ATYP 1 and 4, with no lookup', async () => {
  const p = await proxy(upToConnect(0));
  (await connectTo(p.port, '10.1.2.3')).destroy();
  (await connectTo(p.port, '2001:db8::1')).destroy();
  assert.deepEqual([...p.seen[0]!.bytes.subarray(10, 18)], [5, 1, 0, 1, 10, 1, 2, 3]);
  const v6 = p.seen[1]!.bytes.subarray(10);
  assert.deepEqual([...v6.subarray(0, 4)], [5, 1, 0, 4]);
  assert.deepEqual([...v6.subarray(4, 20)], [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]);
});

test('a proxy that refuses username/password, or the credentials, or is not there: TOR_UNAVAILABLE, sent false', async () => {
  const noAuth = await proxy((b, s) => b.length === 3 && s.write(Buffer.from([5, 0xff])));
  const badCreds = await proxy((b, s) => {
    if (b.length === 3) s.write(Buffer.from([5, 2]));
    else s.write(Buffer.from([1, 1]));
  });
  const hangUp = await proxy((_b, s) => s.destroy());
  const closed = await freePort();
  for (const [port, reason] of [
    [noAuth.port, 'socks_auth_refused'],
    [badCreds.port, 'socks_auth_failed'],
    [hangUp.port, 'socks_closed'],
    [closed, 'socks_connect'],
  ] as const) {
    const err = await refused(() => connectTo(port));
    assert.equal(err.code, 'TOR_UNAVAILABLE', `${reason}: ${err.code} ${err.message}`);
    assert.equal(err.details.reason, reason);
    assert.equal(err.details.sent, false);
  }
});

test('Tor’s CONNECT failures (host unreachable, onion errors) are NET_UNREACHABLE with nothing sent', async () => {
  for (const [code, reason] of [
    [4, 'socks_host_unreachable'],
    [0xf0, 'onion_descriptor_not_found'],
    [0x99, 'socks_failure'],
  ] as const) {
    const p = await proxy(upToConnect(code));
    const err = await refused(() => connectTo(p.port));
    assert.equal(err.code, 'NET_UNREACHABLE');
    assert.equal(err.details.reason, reason);
    assert.equal(err.details.sent, false);
  }
});

test('a proxy that never answers is bounded by the deadline; a proxy by name is refused without a lookup', async () => {
  const silent = await proxy(() => undefined);
  const err = await refused(() => connectTo(silent.port, 'node.example', AbortSignal.timeout(200)));
  assert.equal(err.code, 'NET_UNREACHABLE');
  assert.equal(err.details.reason, 'timeout');
  const byName = await refused(() =>
    socksConnect({
      proxy: { host: 'localhost', port: 9050 },
      host: 'x.example',
      port: 80,
      username: 'u',
      password: 'p',
      signal: AbortSignal.timeout(1_000),
    }),
  );
  assert.equal(byName.code, 'TOR_UNAVAILABLE');
  assert.equal(byName.details.reason, 'socks_address');
  const badName = await refused(() => connectTo(silent.port, 'a b.example'));
  assert.equal(badName.code, 'NET_URL_REFUSED');
});

test('a Tor route never falls back: with the SOCKS port closed, a directly reachable target is not contacted', async () => {
  let contacted = 0;
  const target = createServer((s) => {
    contacted++;
    s.destroy();
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => target.close(() => resolve())));
  const net = createNet({
    route: { via: 'tor', socks: { host: '127.0.0.1', port: await freePort() } },
    allowLoopback: true,
  });
  const err = await refused(() =>
    net.fetch(`http://127.0.0.1:${(target.address() as AddressInfo).port}/`, {}, { identity: 'alice' }),
  );
  assert.equal(err.code, 'TOR_UNAVAILABLE');
  assert.equal(contacted, 0);
});

test('isolation: one nonce per identity (and for Warden’s own traffic), a new one on rotation only for that identity', () => {
  const iso = createIsolation();
  const a = iso.credentials('alice');
  const b = iso.credentials('bob');
  const own = iso.credentials(null);
  assert.notEqual(a.username, b.username);
  assert.notEqual(own.username, a.username);
  assert.deepEqual(iso.credentials('alice'), a);
  assert.match(a.username, /^[0-9a-f]{32}$/);
  iso.rotate('alice');
  assert.notEqual(iso.credentials('alice').username, a.username);
  assert.deepEqual(iso.credentials('bob'), b);
  assert.deepEqual(iso.credentials(null), own);
  assert.notEqual(createIsolation().credentials('alice').username, iso.credentials('alice').username);
});

test('the SPKI pin of a certificate is what openssl computes', () => {
  const { certFile: cert } = selfSignedCertificate(tempDir('spki'), { cn: 'pin.test' });
  const der = execFileSync('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  const spki = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: der });
  const expected = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: spki }).toString(
    'base64',
  );
  assert.equal(spkiPinOf(new X509Certificate(readFileSync(cert))), expected);
});
