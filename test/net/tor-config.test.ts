import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeAllowedHost, normalizeAllowedOrigin } from '../../src/api/http/guards.ts';
import { configDocument } from '../../src/config/config-document.ts';
import { resolveWardenConfig, type WardenConfig } from '../../src/config/warden-config.ts';
import { isWardenError, type WardenError } from '../../src/core/errors.ts';
import type { Route } from '../../src/net/http.ts';
import { CONFIG_SECTIONS } from '../../src/protocols/config-sections.ts';
import type { EvmConfig } from '../../src/protocols/evm/index.ts';

/** The `tor` section of warden.yaml and the EVM section's `via` and `pins`. */
const REF = { path: '/etc/warden/warden.yaml', source: 'home' } as const;

function load(text: string): WardenConfig {
  return resolveWardenConfig(text, REF, {
    sections: CONFIG_SECTIONS,
    normalize: { allowedHost: normalizeAllowedHost, allowedOrigin: normalizeAllowedOrigin },
  });
}

function problem(text: string): WardenError {
  try {
    load(text);
  } catch (err) {
    if (isWardenError(err)) return err;
    throw err;
  }
  assert.fail('expected CONFIG_INVALID');
}

const evm = (c: WardenConfig) => c.protocols.evm as EvmConfig;
const PIN = `${'A'.repeat(43)}=`;

describe('warden.yaml: tor', () => {
  test('a running tor: its SocksPort becomes every backend’s default route', () => {
    const c = load(
      'tor:\n  socks: 127.0.0.1:9050\nprotocols:\n  evm:\n    rpc:\n      1: https://eth.example/\n',
    );
    assert.deepEqual(c.tor, {
      socks: { host: '127.0.0.1', port: 9050 },
      control: null,
      cookieFile: null,
      managed: false,
    });
    assert.deepEqual(evm(c).route, { via: 'tor', socks: { host: '127.0.0.1', port: 9050 } } satisfies Route);
    assert.deepEqual(configDocument(c).tor, { socks: '127.0.0.1:9050' });
  });

  test('without a tor section backends go direct, as before', () => {
    const c = load('protocols:\n  evm:\n    rpc:\n      1: https://eth.example/\n');
    assert.equal(c.tor, null);
    assert.deepEqual(evm(c).route, { via: 'direct' });
    assert.equal(configDocument(c).tor, undefined);
  });

  test('managed: Warden’s own tor on ports away from a system tor; a control port with a cookie', () => {
    const managed = load('tor:\n  managed: true\n');
    assert.deepEqual(managed.tor, {
      socks: { host: '127.0.0.1', port: 19050 },
      control: { host: '127.0.0.1', port: 19051 },
      cookieFile: null,
      managed: true,
    });
    const control = load('tor:\n  socks: "[::1]:9050"\n  control: 127.0.0.1:9051\n  cookie: tor/cookie\n');
    assert.deepEqual(control.tor?.socks, { host: '::1', port: 9050 });
    assert.equal(control.tor?.cookieFile, '/etc/warden/tor/cookie', 'found beside warden.yaml');
    assert.deepEqual(configDocument(control).tor, {
      socks: '[::1]:9050',
      control: '127.0.0.1:9051',
      cookie: '/etc/warden/tor/cookie',
    });
  });

  test('Tor’s ports are addresses, never names (no lookup, ever); the section is complete', () => {
    for (const [text, path, message] of [
      ['tor:\n  socks: localhost:9050\n', 'tor.socks', /IP:PORT/],
      ['tor:\n  socks: 127.0.0.1\n', 'tor.socks', /IP:PORT/],
      ['tor:\n  socks: 127.0.0.1:70000\n', 'tor.socks', /IP:PORT/],
      ['tor:\n  socks: 999.0.0.1:9050\n', 'tor.socks', /IP:PORT/],
      ['tor:\n  sock: 127.0.0.1:9050\n', 'tor.sock', /known keys here are: socks, control, cookie, managed/],
      ['tor: {}\n', 'tor', /socks: 127\.0\.0\.1:9050.*managed: true/],
      ['tor:\n  socks: 127.0.0.1:9050\n  control: 127.0.0.1:9051\n', 'tor.cookie', /cookie file/],
      ['tor:\n  managed: true\n  cookie: /x\n', 'tor.cookie', /managed tor keeps its cookie/],
      ['tor:\n  managed: "yes"\n', 'tor.managed', /true or false/],
    ] as const) {
      const err = problem(text);
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.equal(err.details.path, path, err.message);
      assert.match(err.message, message);
    }
  });
});

describe('warden.yaml: protocols.evm.via and pins', () => {
  const tor = 'tor:\n  socks: 127.0.0.1:9050\n';
  test('via: direct with Tor configured is unsafe, named so; a node on this machine needs it', () => {
    const direct = `${tor}protocols:\n  evm:\n    via: direct\n    rpc:\n      1: https://eth.example/\n`;
    const err = problem(direct);
    assert.equal(err.details.path, 'protocols.evm.rpc["1"]');
    assert.match(err.message, /own address.*unsafe\.allow_direct_backends/);
    const allowed = load(`${direct}unsafe:\n  allow_direct_backends: true\n`);
    assert.deepEqual(evm(allowed).route, { via: 'direct' });

    const local = `${tor}protocols:\n  evm:\n    rpc:\n      31337: http://127.0.0.1:8545\nunsafe:\n  allow_loopback_rpc: true\n`;
    assert.match(problem(local).message, /Tor cannot reach it; set via: direct/);
    const localDirect = load(local.replace('    rpc:', '    via: direct\n    rpc:'));
    assert.deepEqual(
      evm(localDirect).route,
      { via: 'direct' },
      'loopback direct needs no allow_direct_backends',
    );
  });

  test('via: tor without a tor section, or a bad via, is refused', () => {
    assert.match(
      problem('protocols:\n  evm:\n    via: tor\n    rpc:\n      1: https://e.example/\n').message,
      /needs a tor section/,
    );
    assert.match(problem(`${tor}protocols:\n  evm:\n    via: socks\n`).message, /tor or direct/);
  });

  test('pins: SPKI SHA-256 per chain, for https endpoints of configured chains', () => {
    const c = load(
      `${tor}protocols:\n  evm:\n    rpc:\n      1: https://eth.example:8443/v3/key\n    pins:\n      1: ["${PIN}"]\n`,
    );
    assert.deepEqual([...(evm(c).pins ?? new Map())], [['https://eth.example:8443', [PIN]]]);
    for (const [pins, message] of [
      [`2: ["${PIN}"]`, /no endpoint for chain 2/],
      ['1: ["not-a-pin"]', /base64 of the SHA-256/],
      ['1: []', /at least one pin/],
    ] as const)
      assert.match(
        problem(
          `${tor}protocols:\n  evm:\n    rpc:\n      1: https://eth.example/\n    pins:\n      ${pins}\n`,
        ).message,
        message,
      );
    const plain = `${tor}protocols:\n  evm:\n    rpc:\n      1: http://eth.example/\n    pins:\n      1: ["${PIN}"]\n`;
    assert.match(problem(plain).message, /only an https endpoint has a key to pin/);
  });
});
