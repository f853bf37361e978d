import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { normalizeAllowedHost, normalizeAllowedOrigin } from '../../src/api/http/guards.ts';
import { configDocument, redactUrl } from '../../src/config/config-document.ts';
import {
  type ConfigFileRef,
  type ConfigOverrides,
  configFileRef,
  DEFAULT_HOST,
  DEFAULT_PORT,
  loadWardenConfig,
  resolveWardenConfig,
  type WardenConfig,
} from '../../src/config/warden-config.ts';
import { isWardenError, type WardenError } from '../../src/core/errors.ts';
import { formatYamlPath } from '../../src/core/yaml.ts';
import { CONFIG_SECTIONS } from '../../src/protocols/config-sections.ts';
import { evmSectionFromFlags } from '../../src/protocols/evm/config.ts';
import { tempDir } from '../helpers/home.ts';

const REF: ConfigFileRef = { path: '/etc/warden/warden.yaml', source: 'home' };
const NORMALIZE = { allowedHost: normalizeAllowedHost, allowedOrigin: normalizeAllowedOrigin };

function load(text: string | null, overrides: ConfigOverrides = {}): WardenConfig {
  return resolveWardenConfig(text, REF, { sections: CONFIG_SECTIONS, normalize: NORMALIZE, overrides });
}

/** The override `--evm-rpc` flags give. */
function flags(...values: string[]): ConfigOverrides {
  return { protocols: { evm: { section: evmSectionFromFlags(values), source: '--evm-rpc' } } };
}

function errorOf(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (err) {
    if (isWardenError(err)) return err;
    throw err;
  }
  assert.fail('expected a WardenError');
}

/** CONFIG_INVALID whose first problem is at `path` (as printed), its message matching `message`. */
function assertInvalid(text: string, path: string, message: RegExp): WardenError {
  const err = errorOf(() => load(text));
  assert.equal(err.code, 'CONFIG_INVALID', err.message);
  assert.equal(err.details.path, path, err.message);
  assert.ok(err.message.startsWith(`${path}: `), err.message);
  assert.match(err.message, message);
  assert.match(err.message, /\/etc\/warden\/warden\.yaml/, 'the file is named');
  assert.doesNotMatch(err.message, /\n\s+at /);
  return err;
}

function rpcUrls(config: WardenConfig): Map<number, string> {
  return (config.protocols.evm as { rpcUrls: Map<number, string> }).rpcUrls;
}

describe('warden.yaml: a valid file', () => {
  test('absent or empty: the defaults (loopback listener, no backend, nothing unsafe)', () => {
    for (const text of [null, '', '# nothing yet\n', '---\n', 'listen: {}\nprotocols: {}\nunsafe: {}\n']) {
      const c = load(text);
      assert.equal(c.listen.host, DEFAULT_HOST);
      assert.equal(c.listen.port, DEFAULT_PORT);
      assert.equal(c.listen.allowRemote, false);
      assert.deepEqual(c.listen.allowedHosts, []);
      assert.deepEqual(c.listen.allowedOrigins, []);
      assert.equal(c.listen.tls, undefined);
      assert.deepEqual(c.unsafe, { allow_loopback_rpc: false, allow_direct_backends: false });
      assert.equal(rpcUrls(c).size, 0);
      assert.deepEqual(c.overriddenBy, []);
      assert.equal(c.file.exists, text !== null);
    }
  });

  test('every key: listener, EVM RPC per chain, unsafe opt-in', () => {
    const c = load(`
listen:
  host: 0.0.0.0
  port: 8443
  allowed_hosts: [Warden.Example, "proxy.example:443"]
  allowed_origins: ["https://app.example"]
  tls: { cert: tls/cert.pem, key: /abs/key.pem }
  allow_remote: true
  body_limit: 131072
protocols:
  evm:
    rpc:
      42161: https://arb1.example/rpc
      "1": HTTPS://Mainnet.Example:8545
      31337: http://127.0.0.1:8545
unsafe:
  allow_loopback_rpc: true
`);
    assert.deepEqual(c.listen, {
      host: '0.0.0.0',
      port: 8443,
      allowRemote: true,
      bodyLimit: 131072,
      onion: false,
      allowedHosts: ['warden.example', 'proxy.example:443'],
      allowedOrigins: ['https://app.example'],
      // A relative path is found beside warden.yaml.
      tls: { certFile: '/etc/warden/tls/cert.pem', keyFile: '/abs/key.pem' },
    });
    assert.deepEqual(
      [...rpcUrls(c)],
      [
        [1, 'https://mainnet.example:8545/'],
        [31337, 'http://127.0.0.1:8545/'],
        [42161, 'https://arb1.example/rpc'],
      ],
    );
    assert.deepEqual(c.unsafe, { allow_loopback_rpc: true, allow_direct_backends: false });
    assert.deepEqual(c.sections, {
      evm: {
        rpc: {
          '1': 'https://mainnet.example:8545/',
          '31337': 'http://127.0.0.1:8545/',
          '42161': 'https://arb1.example/rpc',
        },
      },
    });
  });

  test('port 0 (any free port) and a small alias are fine', () => {
    const c = load('listen:\n  port: 0\n  allowed_hosts: &h [a.example]\n  allowed_origins: []\n');
    assert.equal(c.listen.port, 0);
    assert.deepEqual(c.listen.allowedHosts, ['a.example']);
  });
});

describe('warden.yaml: every kind of invalid file names its path', () => {
  test('listener values', () => {
    const cases: [string, string, RegExp][] = [
      ['listen:\n  port: 70000\n', 'listen.port', /whole number from 0 to 65535/],
      ['listen:\n  port: -1\n', 'listen.port', /whole number from 0 to 65535/],
      ['listen:\n  port: "8080"\n', 'listen.port', /whole number/],
      ['listen:\n  port: 80.5\n', 'listen.port', /not a plain whole number/],
      ['listen:\n  port: 1e3\n', 'listen.port', /not a plain whole number/],
      ['listen:\n  port: 0x1F90\n', 'listen.port', /not a plain whole number/],
      ['listen:\n  port: 0o17\n', 'listen.port', /not a plain whole number/],
      ['listen:\n  host: ""\n', 'listen.host', /must not be empty/],
      ['listen:\n  host: "a b"\n', 'listen.host', /spaces or control characters/],
      ['listen:\n  host: 127\n', 'listen.host', /must be text/],
      ['listen:\n  allowed_hosts: warden.example\n', 'listen.allowed_hosts', /list of host names/],
      ['listen:\n  allowed_hosts: [ok.example, "http://x"]\n', 'listen.allowed_hosts[1]', /not a host name/],
      [
        'listen:\n  allowed_origins: ["https://app.example/path"]\n',
        'listen.allowed_origins[0]',
        /not an origin/,
      ],
      ['listen:\n  tls: { cert: c.pem }\n', 'listen.tls.key', /file path/],
      ['listen:\n  tls: c.pem\n', 'listen.tls', /./],
      ['listen:\n  allow_remote: yes\n', 'listen.allow_remote', /true or false/],
      ['listen:\n  body_limit: 0\n', 'listen.body_limit', /from 1 to/],
      ['listen: [127.0.0.1]\n', 'listen', /./],
      ['unsafe:\n  allow_loopback_rpc: "true"\n', 'unsafe.allow_loopback_rpc', /true or false/],
      ['unsafe:\n  allow_loopback_rpc: 1\n', 'unsafe.allow_loopback_rpc', /true or false/],
      ['- listen\n', '(document)', /./],
      ['just text\n', '(document)', /./],
    ];
    for (const [text, path, message] of cases) assertInvalid(text, path, message);
  });

  test('unknown keys are refused at their own path, with the keys that are known', () => {
    const cases: [string, string, RegExp][] = [
      [
        'listner:\n  port: 1\n',
        'listner',
        /known keys here are: listen, tor, jitter, nwc, protocols, unsafe/,
      ],
      ['listen:\n  hots: x\n', 'listen.hots', /known keys here are: host, port, allowed_hosts/],
      ['listen:\n  tls: { cert: a, key: b, ca: c }\n', 'listen.tls.ca', /known keys here are: cert, key/],
      [
        'unsafe:\n  allow_everything: true\n',
        'unsafe.allow_everything',
        /known keys here are: allow_loopback_rpc/,
      ],
      ['protocols:\n  nwc: {}\n', 'protocols.nwc', /known keys here are: bitcoin, evm, lightning/],
      [
        'protocols:\n  lightning:\n    backend: lnd\n    url: https://lnd.example:8080/\n    macaroon: x\n',
        'protocols.lightning.macaroon',
        /known keys here are: backend, url, via, pins, timeout_seconds, wait_seconds/,
      ],
      [
        'protocols:\n  bitcoin:\n    node: {}\n',
        'protocols.bitcoin.node',
        /known keys here are: nodes, via, pins, min_confirmations/,
      ],
      ['protocols:\n  evm:\n    rpcs: {}\n', 'protocols.evm.rpcs', /known keys here are: rpc/],
      ['__proto__:\n  polluted: true\n', '__proto__', /unknown key/],
      // Merge keys are off: `<<` is an ordinary, and then unknown, key.
      ['base: &b { port: 1 }\nlisten:\n  <<: *b\n', 'base', /unknown key/],
      ['listen:\n  <<: { port: 1 }\n', 'listen["<<"]', /unknown key/],
    ];
    for (const [text, path, message] of cases) assertInvalid(text, path, message);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('every problem is listed, each with its line', () => {
    const err = assertInvalid(
      'listen:\n  port: 70000\n  hots: x\nunsafe:\n  nope: true\n',
      'listen.port',
      /line 2/,
    );
    assert.equal(err.details.problems, 3);
    assert.equal(err.details.line, 2);
    assert.match(err.message, /and 2 more problems/);
    assert.deepEqual(String(err.details.problemList).split('\n'), [
      'listen.port: must be a whole number from 0 to 65535 (line 2)',
      'listen.hots: unknown key; the known keys here are: host, port, allowed_hosts, allowed_origins, tls, allow_remote, body_limit, onion (line 3)',
      'unsafe.nope: unknown key; the known keys here are: allow_loopback_rpc, allow_direct_backends (line 5)',
    ]);
  });

  test('bad chain id keys', () => {
    for (const key of ['abc', '0', '-1', '042', '1.5', '0x1', '12345678901234567', '"1 "', '""']) {
      const shown = key.replace(/^"|"$/g, '');
      assertInvalid(
        `protocols:\n  evm:\n    rpc:\n      ${key}: https://rpc.example\n`,
        formatYamlPath(['protocols', 'evm', 'rpc', shown]),
        /chain id is a positive whole number/,
      );
    }
    // Keys that are not text or a number at all are refused by the reader.
    for (const key of ['true', 'null', '[1]', '{a: 1}'])
      assertInvalid(
        `protocols:\n  evm:\n    rpc:\n      ${key}: https://rpc.example\n`,
        'protocols.evm.rpc',
        /every key must be plain text or a number/,
      );
  });

  test('RPC endpoints: http(s) URLs only, no credentials, no fragment', () => {
    const cases: [string, RegExp][] = [
      ['ftp://rpc.example', /only http: and https:/],
      ['ws://rpc.example', /only http: and https:/],
      ['file:///etc/passwd', /only http: and https:/],
      ['javascript:alert(1)', /only http: and https:/],
      ['rpc.example:8545', /only http: and https:|not a URL/],
      ['not a url', /not a URL/],
      ['https://user:pass@rpc.example', /credentials in the URL/],
      ['https://rpc.example/#frag', /fragment/],
      [`https://rpc.example/${'a'.repeat(2100)}`, /longer than 2048/],
    ];
    for (const [url, message] of cases)
      assertInvalid(
        `protocols:\n  evm:\n    rpc:\n      1: ${JSON.stringify(url)}\n`,
        'protocols.evm.rpc["1"]',
        message,
      );
    assertInvalid(
      'protocols:\n  evm:\n    rpc:\n      1: 8545\n',
      'protocols.evm.rpc["1"]',
      /URL of a JSON-RPC endpoint/,
    );
    assertInvalid(
      'protocols:\n  evm:\n    rpc: [https://x.example]\n',
      'protocols.evm.rpc',
      /chain ids to URLs/,
    );
    // The credentials never reach a message.
    const err = errorOf(() =>
      load('protocols:\n  evm:\n    rpc:\n      1: https://user:s3cret@rpc.example\n'),
    );
    assert.doesNotMatch(JSON.stringify({ m: err.message, d: err.details }), /s3cret/);
  });

  test('a loopback RPC is refused unless unsafe.allow_loopback_rpc is true', () => {
    const loopbacks = [
      'http://127.0.0.1:8545',
      'http://127.1:8545',
      'http://2130706433:8545',
      'http://localhost:8545',
      'http://LOCALHOST.:8545',
      'http://node.localhost:8545',
      'http://[::1]:8545',
      'http://[::ffff:127.0.0.1]:8545',
      'http://0.0.0.0:8545',
    ];
    for (const url of loopbacks) {
      const text = `protocols:\n  evm:\n    rpc:\n      31337: ${JSON.stringify(url)}\n`;
      const err = assertInvalid(text, 'protocols.evm.rpc["31337"]', /loopback.*unsafe\.allow_loopback_rpc/);
      assert.equal(err.details.line, 4);
      assertInvalid(
        `${text}unsafe:\n  allow_loopback_rpc: false\n`,
        'protocols.evm.rpc["31337"]',
        /loopback/,
      );
      const allowed = load(`${text}unsafe:\n  allow_loopback_rpc: true\n`);
      assert.equal(rpcUrls(allowed).size, 1, url);
    }
    // A name that only looks local is not loopback.
    assert.equal(
      rpcUrls(load('protocols:\n  evm:\n    rpc:\n      1: http://127.0.0.1.nip.example\n')).size,
      1,
    );
  });

  test('protocols.lightning: lnd or cln by its REST URL, loopback only when opted in, the macaroon or rune never here', () => {
    const text = 'protocols:\n  lightning:\n    backend: lnd\n    url: http://127.0.0.1:8080\n';
    assertInvalid(text, 'protocols.lightning.url', /loopback.*unsafe\.allow_loopback_rpc/);
    const c = load(`${text}    timeout_seconds: 20\nunsafe:\n  allow_loopback_rpc: true\n`);
    assert.deepEqual(
      (({ kind, url, timeoutSeconds, waitSeconds }) => ({ kind, url, timeoutSeconds, waitSeconds }))(
        c.protocols.lightning as Record<string, unknown>,
      ),
      { kind: 'lnd', url: 'http://127.0.0.1:8080/', timeoutSeconds: 20, waitSeconds: 50 },
    );
    const cln = load('protocols:\n  lightning:\n    backend: cln\n    url: https://cln.example:3010/\n');
    assert.deepEqual(
      (({ kind, url, timeoutSeconds }) => ({ kind, url, timeoutSeconds }))(
        cln.protocols.lightning as Record<string, unknown>,
      ),
      { kind: 'cln', url: 'https://cln.example:3010/', timeoutSeconds: 60 },
    );
    const nwc = load('protocols:\n  lightning:\n    backend: nwc\n    url: wss://Relay.example\n');
    assert.deepEqual(
      (({ kind, url }) => ({ kind, url }))(nwc.protocols.lightning as Record<string, unknown>),
      { kind: 'nwc', url: 'wss://relay.example/' },
    );
    assertInvalid(
      'protocols:\n  lightning:\n    backend: nwc\n    url: https://relay.example/\n',
      'protocols.lightning.url',
      /ws:\/\/ or wss:\/\//,
    );
    assertInvalid(
      'protocols:\n  lightning:\n    backend: lnd\n    url: wss://lnd.example/\n',
      'protocols.lightning.url',
      /lnd and cln take http/,
    );
    assertInvalid(
      'protocols:\n  lightning:\n    backend: nwc\n    url: wss://user:pw@relay.example/\n',
      'protocols.lightning.url',
      /credentials/,
    );
    assertInvalid(
      'protocols:\n  lightning:\n    backend: eclair\n    url: https://eclair.example/\n',
      'protocols.lightning.backend',
      /lnd .* cln .* or nwc/,
    );
    assertInvalid(
      'protocols:\n  lightning:\n    backend: cln\n    url: https://cln.example/\n    rune: x\n',
      'protocols.lightning.rune',
      /unknown key/,
    );
    assertInvalid(
      'protocols:\n  lightning:\n    backend: lnd\n    url: http://lnd.example/\n    pins: ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]\n',
      'protocols.lightning.pins',
      /https/,
    );
    assertInvalid(
      'protocols:\n  lightning:\n    backend: lnd\n    url: https://lnd.example/\n    timeout_seconds: 0\n',
      'protocols.lightning.timeout_seconds',
      /at least 1/,
    );
  });

  test('YAML tags, several documents, duplicate keys and alias bombs are refused', () => {
    assertInvalid('listen:\n  host: !!str 127.0.0.1\n', 'listen.host', /YAML tags are not allowed/);
    assertInvalid('listen:\n  port: !!int "80"\n', 'listen.port', /YAML tags are not allowed/);
    assertInvalid('listen: !!map { port: 1 }\n', 'listen', /YAML tags are not allowed/);
    assertInvalid(
      'protocols:\n  evm:\n    rpc:\n      1: !!binary aGk=\n',
      'protocols.evm.rpc["1"]',
      /YAML tags/,
    );
    assertInvalid('listen:\n  host: !custom x\n', '(document)', /tag/i);
    assertInvalid('listen:\n  host: !<tag:evil.example,2024:x> x\n', '(document)', /tag/i);
    assertInvalid('listen: {}\n---\nunsafe: {}\n', '(document)', /YAML error/);
    assertInvalid('listen:\n  port: 1\n  port: 2\n', 'listen.port', /duplicate key/);
    assertInvalid('listen:\n  host: [unclosed\n', '(document)', /YAML error/);
    assertInvalid('listen:\n  host: *nowhere\n', 'listen.host', /unknown alias/);
    const laughs = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    const err = errorOf(() => load(laughs));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.match(err.message, /aliases|more than \d+ values/);
    assert.ok(errorOf(() => load(`listen:\n  host: "${'x'.repeat(70_000)}"\n`)).message.includes('limit'));
  });
});

describe('flags override the file', () => {
  const file =
    'protocols:\n  evm:\n    rpc:\n      42161: https://arb.example/a\n      1: https://eth.example\n';

  test('--evm-rpc replaces that chain only; the listen flags win key by key', () => {
    const c = load(`${file}listen:\n  host: 127.0.0.2\n  port: 9000\n  allowed_hosts: [a.example]\n`, {
      ...flags('42161=https://arb.example/b', '10=https://op.example'),
      listen: { port: 9999, allowedHosts: ['b.example'] },
    });
    assert.deepEqual(
      [...rpcUrls(c)],
      [
        [1, 'https://eth.example/'],
        [10, 'https://op.example/'],
        [42161, 'https://arb.example/b'],
      ],
    );
    assert.equal(c.listen.host, '127.0.0.2', 'what no flag says stays as the file says');
    assert.equal(c.listen.port, 9999);
    assert.deepEqual(c.listen.allowedHosts, ['b.example']);
    assert.deepEqual(c.overriddenBy, ['listen flags', '--evm-rpc']);
    // No flag given: the file alone.
    assert.deepEqual(load(file, flags()).overriddenBy, []);
  });

  test('a loopback URL named by a flag is an opt-in for that URL only', () => {
    const c = load(null, flags('31337=http://127.0.0.1:8545'));
    assert.deepEqual([...rpcUrls(c)], [[31337, 'http://127.0.0.1:8545/']]);
    // The file's own loopback URL for another chain still needs the unsafe option…
    const loopFile = 'protocols:\n  evm:\n    rpc:\n      1: http://localhost:8545\n';
    const err = errorOf(() => load(loopFile, flags('31337=http://127.0.0.1:8545')));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.details.path, 'protocols.evm.rpc["1"]');
    // …unless a flag names that one too (then it is the flag's URL that counts).
    assert.equal(rpcUrls(load(loopFile, flags('1=http://127.0.0.1:9'))).get(1), 'http://127.0.0.1:9/');
  });

  test('a bad flag is a usage error named by its flag, as before', () => {
    for (const bad of [
      '42161',
      'x=http://a',
      '0=http://a',
      '1=ftp://a',
      '1=',
      '99999999999999999=http://a',
    ]) {
      const err = errorOf(() => evmSectionFromFlags([bad]));
      assert.equal(err.code, 'USAGE');
      assert.match(err.message, /^--evm-rpc takes CHAINID=URL/);
    }
    for (const bad of ['1=http://user:pw@rpc.example', '1=http://a b', '1=https://rpc.example/#x']) {
      const err = errorOf(() => load(file, flags(bad)));
      assert.equal(err.code, 'USAGE', err.message);
      assert.match(err.message, /^--evm-rpc: protocols\.evm\.rpc\["1"\]: /);
      assert.doesNotMatch(err.message, /pw@/);
    }
  });
});

describe('the file on disk', () => {
  test('the home file may be absent; one named by --file or $WARDEN_CONFIG must exist', () => {
    const dir = tempDir('config-file');
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const options = { sections: CONFIG_SECTIONS };
    assert.deepEqual(configFileRef(home, undefined, {}), { path: join(home, 'warden.yaml'), source: 'home' });
    assert.equal(loadWardenConfig(configFileRef(home, undefined, {}), options).file.exists, false);
    const named = configFileRef(home, undefined, { WARDEN_CONFIG: join(dir, 'other.yaml') });
    assert.deepEqual(named, { path: join(dir, 'other.yaml'), source: 'env' });
    assert.equal(errorOf(() => loadWardenConfig(named, options)).code, 'FILE_NOT_FOUND');
    assert.equal(configFileRef(home, join(dir, 'x.yaml'), { WARDEN_CONFIG: 'y' }).source, 'option');
    assert.equal(configFileRef(home, undefined, { WARDEN_CONFIG: '' }).source, 'home');
    assert.equal(errorOf(() => configFileRef(home, '', {})).code, 'USAGE');

    const path = join(home, 'warden.yaml');
    writeFileSync(path, 'listen:\n  port: 9001\n', { mode: 0o600 });
    const ref = configFileRef(home, undefined, {});
    assert.equal(loadWardenConfig(ref, options).listen.port, 9001);
    // Whoever may write it chooses the backends and the unsafe options: group/other-writable is refused.
    for (const mode of [0o620, 0o602, 0o666]) {
      chmodSync(path, mode);
      assert.equal(errorOf(() => loadWardenConfig(ref, options)).code, 'FILE_PERMISSIONS_TOO_OPEN');
    }
    chmodSync(path, 0o644);
    assert.equal(loadWardenConfig(ref, options).listen.port, 9001, 'readable by others is allowed');
    writeFileSync(path, 'x'.repeat(70 * 1024));
    assert.equal(errorOf(() => loadWardenConfig(ref, options)).code, 'FILE_TOO_LARGE');
    writeFileSync(path, Buffer.from([0x6c, 0x69, 0xff, 0xfe]));
    assert.equal(errorOf(() => loadWardenConfig(ref, options)).code, 'CONFIG_INVALID');
    assert.equal(
      errorOf(() => loadWardenConfig({ path: dir, source: 'option' }, options)).code,
      'FILE_NOT_FOUND',
    );
  });
});

describe('config show', () => {
  test('URLs are shown without anything that looks like a credential', () => {
    assert.equal(
      redactUrl('https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWx12345678'),
      'https://eth-mainnet.g.alchemy.com/v2/***',
    );
    assert.equal(
      redactUrl('https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef'),
      'https://mainnet.infura.io/v3/***',
    );
    assert.equal(
      redactUrl('https://rpc.example/rpc?apikey=s3cret&x=1'),
      'https://rpc.example/rpc?apikey=***&x=***',
    );
    assert.equal(redactUrl('https://u:p@rpc.example:8545/'), 'https://***@rpc.example:8545/');
    assert.equal(redactUrl('http://127.0.0.1:8545/'), 'http://127.0.0.1:8545/');
    assert.equal(redactUrl('not a url'), '***');
  });

  test('the document is the effective configuration in the file shape, defaults written out', () => {
    const c = load(
      'protocols:\n  evm:\n    rpc:\n      1: https://eth.example/v2/0123456789abcdefXYZ?token=t0k3n\n',
      flags('10=https://op.example'),
    );
    const doc = configDocument(c);
    assert.deepEqual(doc, {
      listen: {
        host: '127.0.0.1',
        port: 7878,
        allowed_hosts: [],
        allowed_origins: [],
        allow_remote: false,
      },
      protocols: {
        evm: { rpc: { '1': 'https://eth.example/v2/***?token=***', '10': 'https://op.example/' } },
      },
      unsafe: { allow_loopback_rpc: false, allow_direct_backends: false },
    });
    assert.doesNotMatch(JSON.stringify(doc), /t0k3n|0123456789abcdefXYZ/);
    // The document is itself a valid warden.yaml (re-read, it gives the same listener).
    assert.deepEqual(load(JSON.stringify(configDocument(load(null)))).listen, load(null).listen);
  });
});

describe('warden.yaml: jitter', () => {
  test('off unless configured; a range of ms, s or m; min defaults to 0; 0..0 is off', () => {
    assert.equal(load(null).jitter, null);
    assert.deepEqual(load('jitter:\n  min: 2s\n  max: 30s\n').jitter, { minMs: 2000, maxMs: 30_000 });
    assert.deepEqual(load('jitter: { max: 1m }\n').jitter, { minMs: 0, maxMs: 60_000 });
    assert.deepEqual(load("jitter: { min: '250ms', max: 250ms }\n").jitter, { minMs: 250, maxMs: 250 });
    assert.deepEqual(load('jitter: { max: 5m }\n').jitter, { minMs: 0, maxMs: 300_000 });
    assert.equal(load('jitter: { min: 0s, max: 0ms }\n').jitter, null);
    // Shown by `config show` in ms, and re-read to the same range.
    const doc = configDocument(load('jitter:\n  min: 2s\n  max: 30s\n'));
    assert.deepEqual(doc.jitter, { min: '2000ms', max: '30000ms' });
    assert.deepEqual(load(JSON.stringify(doc)).jitter, { minMs: 2000, maxMs: 30_000 });
    assert.equal(configDocument(load(null)).jitter, undefined);
  });

  test('bad ranges are refused at their path, with their line', () => {
    assertInvalid('jitter:\n  min: 2s\n  max: 1s\n', 'jitter.max', /must be at least min \(2s\), not 1s/);
    assertInvalid('jitter:\n  min: 2s\n', 'jitter.max', /name the longest delay/);
    assertInvalid('jitter:\n  max: 30\n', 'jitter.max', /a whole number with ms, s or m/);
    assertInvalid('jitter:\n  max: 1.5s\n', 'jitter.max', /a whole number with ms, s or m/);
    assertInvalid('jitter:\n  max: 1h\n', 'jitter.max', /a whole number with ms, s or m/);
    assertInvalid('jitter:\n  max: 02s\n', 'jitter.max', /a whole number with ms, s or m/);
    assertInvalid('jitter:\n  max: 6m\n', 'jitter.max', /at most 5m/);
    assertInvalid('jitter:\n  max: 301s\n', 'jitter.max', /at most 5m/);
    assertInvalid('jitter:\n  mx: 3s\n', 'jitter.mx', /unknown key; the known keys here are: min, max/);
    const err = assertInvalid('listen:\n  port: 1\njitter:\n  max: -1s\n', 'jitter.max', /ms, s or m/);
    assert.equal(err.details.line, 4);
  });
});
