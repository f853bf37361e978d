/**
 * `warden` runs the compiled CLI (dist/, built by scripts/build.js), loads only what the command
 * needs, and falls back to the sources through tsx, saying so, when the build is missing or stale.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DIST, ROOT } from '../../bin/build-stamp.js';
import { computeFacts } from '../../src/cli/facts.ts';
import { type CliResult, initCliVault, runNode, wardenArgs } from '../helpers/cli.ts';
import { TEST_PASSPHRASE, tempDir } from '../helpers/home.ts';

const RECORDER = fileURLToPath(new URL('../helpers/record-loads.mjs', import.meta.url));

/** `node <argv>` with the test process's environment plus `env`. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runNode(argv, { env: { ...process.env, ...env } });
}

/** Runs `warden …` and returns what it printed and the modules it loaded, relative to the checkout. */
async function loadsOf(args: string[]): Promise<{ result: CliResult; loaded: string[] }> {
  const file = join(tempDir('loads'), 'loaded.txt');
  writeFileSync(file, '');
  const result = await run(['--import', RECORDER, ...wardenArgs(args)], { RECORD_LOADS: file });
  const loaded = [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))].map((url) =>
    url.startsWith('file:') ? fileURLToPath(url).replace(/^.*\/node_modules\//, 'node_modules/') : url,
  );
  return { result, loaded: loaded.map((p) => (p.startsWith(ROOT) ? p.slice(ROOT.length) : p)) };
}

const HEAVY = /^node_modules\/(viem|nostr-tools|better-sqlite3|kysely|hono|@hono\/|argon2|zod|pino)\b/;
const ROOMS = /^dist\/(gateway|keys|store|audit|protocols|policy|risk|config|net)\//;

describe('the warden executable', () => {
  test('--help loads the compiled registration only: no gateway, protocol, database or KDF module', async () => {
    const { result, loaded } = await loadsOf(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: warden /);
    assert.equal(result.stderr, '', 'no note: the build is current');
    assert.ok(loaded.includes('dist/cli/main.js'), loaded.join('\n'));
    assert.deepEqual(
      loaded.filter((p) => p.startsWith('src/') || HEAVY.test(p) || ROOMS.test(p) || p.includes('/actions/')),
      [],
    );
  });

  test('a command loads its action, the gateway with it, all from dist/', async () => {
    const { result, loaded } = await loadsOf(['--home', tempDir('empty-home'), 'config', 'check']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(loaded.includes('dist/cli/actions/config.js'));
    assert.ok(loaded.includes('dist/gateway/index.js'), 'the recorder sees what --help did not load');
    assert.deepEqual(
      loaded.filter((p) => p.startsWith('src/')),
      [],
    );
  });

  test('a usage error loads no action either', async () => {
    const { result, loaded } = await loadsOf(['token', 'create', '--role', 'admin', '--bogus']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option '--bogus'/);
    assert.deepEqual(
      loaded.filter((p) => HEAVY.test(p) || ROOMS.test(p) || p.includes('/actions/')),
      [],
    );
  });

  test('the facts the build wrote are those of the sources', async () => {
    const written = JSON.parse(readFileSync(join(DIST, 'cli', 'facts.json'), 'utf8'));
    assert.deepEqual(written, await computeFacts());
  });

  test('a missing or stale build: one line on stderr, then the sources through tsx', async () => {
    // A checkout of its own: bin/ copied (it finds everything from where it is), the rest linked.
    const root = tempDir('checkout');
    mkdirSync(join(root, 'bin'));
    for (const f of ['warden.js', 'build-stamp.js']) copyFileSync(join(ROOT, 'bin', f), join(root, 'bin', f));
    for (const f of ['src', 'node_modules', 'package.json', 'tsconfig.json', 'tsconfig.build.json'])
      symlinkSync(join(ROOT, f), join(root, f));
    const warden = (...args: string[]) => run([join(root, 'bin', 'warden.js'), ...args]);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

    const missing = await warden('--version');
    assert.equal(missing.code, 0, missing.stderr);
    assert.equal(missing.stdout.trim(), version);
    assert.match(missing.stderr, /^warden: dist\/ is missing or older than src\/ .*npm run build.*tsx\n$/);

    // dist/ as built, but its stamp is of other sources.
    mkdirSync(join(root, 'dist'));
    for (const f of readdirSync(DIST))
      if (f !== 'build-stamp.json') symlinkSync(join(DIST, f), join(root, 'dist', f));
    writeFileSync(join(root, 'dist', 'build-stamp.json'), '{"sources":"other"}\n');
    const stale = await warden('--version');
    assert.equal(stale.stdout.trim(), version);
    assert.match(stale.stderr, /^warden: dist\/ is missing or older than src\//);

    // The build's own stamp: the same sources (linked), so it runs dist/ and says nothing.
    copyFileSync(join(DIST, 'build-stamp.json'), join(root, 'dist', 'build-stamp.json'));
    const current = await warden('--version');
    assert.equal(current.stdout.trim(), version);
    assert.equal(current.stderr, '');
  });

  test('a read-only command on a vault runs from dist/ too', async () => {
    const v = await initCliVault('build', TEST_PASSPHRASE);
    const { result, loaded } = await loadsOf(['--home', v.home, 'status', '--passphrase-file', v.pass]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Warden status/);
    assert.ok(loaded.includes('dist/cli/actions/vault.js'));
    assert.deepEqual(
      loaded.filter((p) => p.startsWith('src/')),
      [],
    );
  });
});
