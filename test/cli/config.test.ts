import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { initCliVault, runWarden, startWardenServer, writeFileMode } from '../helpers/cli.ts';
import { TEST_PASSPHRASE, tempDir } from '../helpers/home.ts';

/** A home directory with only a warden.yaml (config commands need no vault). */
function homeWith(label: string, yaml?: string): { dir: string; home: string } {
  const dir = tempDir(label);
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  if (yaml !== undefined) writeFileMode(home, 'warden.yaml', yaml);
  return { dir, home };
}

const BAD = `listen:
  port: 70000
protocols:
  evm:
    rpc:
      abc: https://rpc.example
      1: ftp://rpc.example
`;

/** The operations a running server offers, from its `Warden listening on URL (operations: …)` line. */
function operationsOf(output: string): string[] {
  const m = /Warden listening on \S+ \(operations: ([^)]*)\)/.exec(output);
  assert.ok(m, output);
  return m[1]!.split(', ');
}

describe('warden config', () => {
  test('config check: a bad file fails with each path and message; a good one passes', async () => {
    const { dir, home } = homeWith('config-check', BAD);
    const bad = await runWarden(['--home', home, 'config', 'check']);
    assert.equal(bad.code, 1, bad.stderr);
    const lines = bad.stderr.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^CONFIG_INVALID: listen\.port: must be a whole number from 0 to 65535 \(.*warden\.yaml line 2; and 2 more problems\)$/,
    );
    assert.deepEqual(lines.slice(1), [
      '  - listen.port: must be a whole number from 0 to 65535 (line 2)',
      '  - protocols.evm.rpc.abc: a chain id is a positive whole number with no leading zero (e.g. 42161), not "abc" (line 6)',
      '  - protocols.evm.rpc["1"]: only http: and https: endpoints are supported, not ftp: (line 7)',
    ]);
    assert.doesNotMatch(bad.stderr, /\n\s+at |INTERNAL/);

    const json = await runWarden(['--home', home, '--json', 'config', 'check']);
    assert.equal(json.code, 1);
    const error = JSON.parse(json.stdout).error;
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.details.path, 'listen.port');
    assert.equal(error.details.line, 2);
    assert.equal(error.details.problems, 3);

    // An unknown key, and a YAML tag, each in a file named by --file.
    const other = writeFileMode(dir, 'other.yaml', 'listen:\n  hots: x\n');
    const typo = await runWarden(['--home', home, 'config', 'check', '--file', other]);
    assert.equal(typo.code, 1);
    assert.match(
      typo.stderr,
      /^CONFIG_INVALID: listen\.hots: unknown key; the known keys here are: host, port/m,
    );
    const tagged = writeFileMode(dir, 'tagged.yaml', 'unsafe:\n  allow_loopback_rpc: !!bool true\n');
    const tag = await runWarden(['--home', home, 'config', 'check', '--file', tagged]);
    assert.match(tag.stderr, /^CONFIG_INVALID: unsafe\.allow_loopback_rpc: YAML tags are not allowed/m);

    // A loopback RPC in the file needs the unsafe option by name.
    const loop = writeFileMode(
      dir,
      'loop.yaml',
      'protocols:\n  evm:\n    rpc:\n      31337: http://127.0.0.1:8545\n',
    );
    const refused = await runWarden(['--home', home, 'config', 'check', '--file', loop]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^CONFIG_INVALID: protocols\.evm\.rpc\["31337"\]: 127\.0\.0\.1:8545 is on this machine \(loopback\): refused unless unsafe\.allow_loopback_rpc is true/m,
    );

    const good = writeFileMode(
      dir,
      'good.yaml',
      'protocols:\n  evm:\n    rpc:\n      42161: https://arb1.example/rpc\n',
    );
    const ok = await runWarden(['--home', home, 'config', 'check', '--file', good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^valid: .*good\.yaml \(from --file\)$/m);
    // $WARDEN_CONFIG names the file too; --file wins over it.
    const env = { WARDEN_CONFIG: good };
    assert.equal((await runWarden(['--home', home, 'config', 'check'], { env })).code, 0);
    assert.equal((await runWarden(['--home', home, 'config', 'check', '--file', other], { env })).code, 1);
    const missing = await runWarden(['--home', home, 'config', 'check', '--file', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^FILE_NOT_FOUND: /m);
    // No file in the home: the defaults, which are valid.
    const empty = homeWith('config-none');
    const none = await runWarden(['--home', empty.home, 'config', 'check']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(
      none.stdout,
      /^no configuration file: .*warden\.yaml \(from the home; absent: the defaults apply\)$/m,
    );
  });

  test('config show: the effective configuration, file and flags, URLs redacted', async () => {
    const { home } = homeWith(
      'config-show',
      `listen:
  port: 9100
  allowed_hosts: [warden.example]
protocols:
  evm:
    rpc:
      42161: https://arb-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWx12345678
      1: https://eth.example/rpc?apikey=s3cret
`,
    );
    const shown = await runWarden(['--home', home, 'config', 'show', '--evm-rpc', '1=https://eth2.example']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^# file: .*home\/warden\.yaml \(from the home\)$/m);
    assert.match(shown.stdout, /^# overridden by: --evm-rpc$/m);
    assert.match(shown.stdout, /^ {2}port: 9100$/m);
    assert.match(shown.stdout, /^ {2}host: 127\.0\.0\.1$/m, 'defaults are written out');
    assert.match(shown.stdout, /^ {6}"1": https:\/\/eth2\.example\/$/m, 'the flag wins for its chain');
    assert.match(shown.stdout, /^ {6}"42161": https:\/\/arb-mainnet\.g\.alchemy\.com\/v2\/\*\*\*$/m);
    assert.match(shown.stdout, /^ {2}allow_loopback_rpc: false$/m);
    assert.doesNotMatch(shown.stdout, /AbCdEfGh|s3cret/);

    const json = await runWarden(['--home', home, '--json', 'config', 'show']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.deepEqual(doc.file, { path: join(home, 'warden.yaml'), source: 'home', exists: true });
    assert.deepEqual(doc.overriddenBy, []);
    assert.deepEqual(doc.config.protocols.evm.rpc, {
      '1': 'https://eth.example/rpc?apikey=***',
      '42161': 'https://arb-mainnet.g.alchemy.com/v2/***',
    });
    assert.deepEqual(doc.config.listen.allowed_hosts, ['warden.example']);

    const unsafe = homeWith('config-show-unsafe', 'unsafe:\n  allow_loopback_rpc: true\n');
    const warned = await runWarden(['--home', unsafe.home, 'config', 'show']);
    assert.match(warned.stdout, /^# UNSAFE: allow_loopback_rpc: /m);

    const badFlag = await runWarden([
      '--home',
      home,
      'config',
      'show',
      '--evm-rpc',
      '1=http://u:pw@x.example',
    ]);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /^USAGE: --evm-rpc: protocols\.evm\.rpc\["1"\]: credentials in the URL/m);
    assert.doesNotMatch(badFlag.stderr, /pw@/);
  });

  test('start and the other commands take the EVM RPC and the listener from warden.yaml; flags win', async () => {
    const v = await initCliVault('config-start', TEST_PASSPHRASE);
    const args = ['--home', v.home, 'start', '--passphrase-file', v.pass];
    // No warden.yaml: no EVM backend, so no evm.send.
    const plain = await startWardenServer([...args, '--port', '0']);
    assert.deepEqual(operationsOf(plain.output()), [
      'nostr.sign_event',
      'evm.sign_message',
      'bitcoin.sign_psbt',
      'bitcoin.new_address',
    ]);
    assert.equal(await plain.stop(), 0);

    // A loopback RPC in the file without the unsafe option: refused before the passphrase is read.
    const wrong = writeFileMode(v.dir, 'wrong', 'not the vault passphrase at all 99\n');
    writeFileMode(v.home, 'warden.yaml', 'protocols:\n  evm:\n    rpc:\n      31337: http://127.0.0.1:9\n');
    const refused = await runWarden(['--home', v.home, 'start', '--port', '0', '--passphrase-file', wrong]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^CONFIG_INVALID: protocols\.evm\.rpc\["31337"\]: .*unsafe\.allow_loopback_rpc/m,
    );
    assert.doesNotMatch(refused.stderr, /VAULT_BAD_PASSPHRASE/);
    // Every command that builds a gateway reads the same file, also before the passphrase.
    const list = await runWarden(['--home', v.home, 'approvals', 'list', '--passphrase-file', wrong]);
    assert.equal(list.code, 1);
    assert.match(list.stderr, /^CONFIG_INVALID: /m);
    // Naming the same URL on the command line is the opt-in it always was.
    const flagged = await startWardenServer([
      ...args,
      '--port',
      '0',
      '--evm-rpc',
      '31337=http://127.0.0.1:9',
    ]);
    assert.deepEqual(operationsOf(flagged.output()), [
      'nostr.sign_event',
      'evm.send',
      'evm.sign_message',
      'bitcoin.sign_psbt',
      'bitcoin.new_address',
    ]);
    assert.equal(await flagged.stop(), 0);

    // The file's listener and RPC (with the unsafe option named): evm.send is offered.
    writeFileMode(
      v.home,
      'warden.yaml',
      'listen:\n  port: 0\nprotocols:\n  evm:\n    rpc:\n      31337: http://127.0.0.1:9\nunsafe:\n  allow_loopback_rpc: true\n',
    );
    const fromFile = await startWardenServer(args);
    assert.deepEqual(operationsOf(fromFile.output()), [
      'nostr.sign_event',
      'evm.send',
      'evm.sign_message',
      'bitcoin.sign_psbt',
      'bitcoin.new_address',
    ]);
    assert.notEqual(new URL(fromFile.url).port, '7878', 'listen.port 0 from the file: any free port');
    assert.equal(await fromFile.stop(), 0);
    // ledger reconcile --from-chain finds its backend in the file (nothing to reconcile here).
    const rec = await v.w('ledger', 'reconcile', '--from-chain');
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stdout, /nothing to reconcile/);

    // A flag wins over the file: listen.port 1 would fail, --port 0 replaces it.
    writeFileMode(v.home, 'warden.yaml', 'listen:\n  port: 1\n  host: 127.0.0.1\n');
    const overridden = await startWardenServer([...args, '--port', '0']);
    assert.deepEqual(operationsOf(overridden.output()), [
      'nostr.sign_event',
      'evm.sign_message',
      'bitcoin.sign_psbt',
      'bitcoin.new_address',
    ]);
    assert.equal(await overridden.stop(), 0);
  });
});
