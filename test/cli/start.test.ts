import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FAST_KDF, initCliVault, wardenArgs, writeFileMode } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the output matches (or rejects when the process exits first). */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

/** `warden …` as a long-running process whose output we watch as it comes. */
function spawnWarden(args: string[]): Running {
  const env = { ...process.env };
  delete env.WARDEN_PASSPHRASE;
  const child = spawn(process.execPath, wardenArgs(args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => {
    out.stdout += d;
  });
  child.stderr!.on('data', (d) => {
    out.stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited,
    waitFor: (pattern, stream = 'stdout') =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out[stream]);
          if (m) {
            clearInterval(timer);
            resolve(m);
          }
        };
        const timer = setInterval(check, 25);
        exited.then((code) => {
          check();
          clearInterval(timer);
          reject(new Error(`exited with ${code} before ${pattern}: ${out.stdout}${out.stderr}`));
        });
      }),
  };
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port }, () => resolve(s));
  });
}

function getWithHost(url: string, host: string, headers: Record<string, string> = {}): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: '/v1/health', headers: { host, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('warden start: what a newcomer hits first', () => {
  test('a taken port is PORT_IN_USE, named, before the passphrase is even read', async () => {
    const v = await initCliVault('port-in-use', TEST_PASSPHRASE);
    const blocker = await listenOn(0);
    after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    // A wrong passphrase: had it been tried first, this would be VAULT_BAD_PASSPHRASE.
    const wrong = writeFileMode(v.dir, 'wrong', 'not the vault passphrase at all 99\n');
    const r = await v.run('start', '--port', String(port), '--passphrase-file', wrong);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^PORT_IN_USE: port ${port} on 127\\.0\\.0\\.1 is already in use`, 'm'),
    );
    assert.doesNotMatch(r.stderr, /INTERNAL|VAULT_BAD_PASSPHRASE|\n\s+at /);
    const json = await v.run('--json', 'start', '--port', String(port), '--passphrase-file', v.pass);
    const error = JSON.parse(json.stdout).error;
    assert.equal(error.code, 'PORT_IN_USE');
    assert.deepEqual(error.details, { host: '127.0.0.1', port });
  });

  test('a second server on the same home is ALREADY_RUNNING with its pid; kill -9 leaves no stale lock', async () => {
    const v = await initCliVault('already-running', TEST_PASSPHRASE);
    const first = spawnWarden(['--home', v.home, 'start', '--port', '0', '--passphrase-file', v.pass]);
    await first.waitFor(/Warden listening on/);
    const pidFile = join(v.home, 'server.pid');
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(first.child.pid));
    assert.equal(statSync(pidFile).mode & 0o777, 0o600);
    const wrong = writeFileMode(v.dir, 'wrong', 'not the vault passphrase at all 99\n');
    for (const pass of [v.pass, wrong]) {
      const second = await v.run('start', '--port', '0', '--passphrase-file', pass);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`^ALREADY_RUNNING: .*\\(pid ${first.child.pid}\\)`, 'm'));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    // The kernel released the lock with the process: a restart needs no cleanup.
    const again = spawnWarden(['--home', v.home, 'start', '--port', '0', '--passphrase-file', v.pass]);
    await again.waitFor(/Warden listening on/);
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0);
  });

  test('start --json: one JSON object per line per event; a passphrase change is told on the console', async () => {
    const v = await initCliVault('start-json', TEST_PASSPHRASE);
    const server = spawnWarden([
      '--home',
      v.home,
      '--json',
      'start',
      '--port',
      '0',
      '--passphrase-file',
      v.pass,
    ]);
    const listening = await server.waitFor(/^\{"event":"listening".*\}$/m);
    const event = JSON.parse(listening[0]);
    assert.equal(event.host, '127.0.0.1');
    assert.ok(Number.isInteger(event.port) && event.port > 0);
    assert.equal(event.url, `http://127.0.0.1:${event.port}`);
    assert.deepEqual(event.operations, [
      'nostr.sign_event',
      'evm.sign_message',
      'bitcoin.sign_psbt',
      'bitcoin.new_address',
    ]);
    assert.equal((await fetch(`${event.url}/v1/health`)).status, 200);

    const newPass = writeFileMode(v.dir, 'new-pass', 'the changed vault passphrase 2026\n');
    const changed = await v.w('passphrase', 'change', '--new-passphrase-file', newPass, ...FAST_KDF);
    assert.equal(changed.code, 0, changed.stderr);
    // The server notices within a tick, with no request needed, and says why.
    const sealed = JSON.parse((await server.waitFor(/^\{"event":"sealed".*\}$/m))[0]);
    assert.equal(sealed.reason, 'passphrase-changed');

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    const events = server
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event);
    assert.deepEqual(events, ['unsealed', 'listening', 'sealed', 'draining', 'stopped']);
  });

  test('the human console says why the server sealed itself', async () => {
    const v = await initCliVault('start-sealed', TEST_PASSPHRASE);
    const server = spawnWarden(['--home', v.home, 'start', '--port', '0', '--passphrase-file', v.pass]);
    await server.waitFor(/Warden listening on/);
    const newPass = writeFileMode(v.dir, 'new-pass', 'the changed vault passphrase 2026\n');
    assert.equal((await v.w('passphrase', 'change', '--new-passphrase-file', newPass, ...FAST_KDF)).code, 0);
    await server.waitFor(
      /Warden sealed itself: the vault passphrase was changed by another process/,
      'stderr',
    );
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  test('--allow-host and --allow-origin reach the server; malformed ones are usage errors', async () => {
    const v = await initCliVault('allow-host', TEST_PASSPHRASE);
    const server = spawnWarden([
      '--home',
      v.home,
      'start',
      '--port',
      '0',
      '--passphrase-file',
      v.pass,
      '--allow-host',
      'warden.example',
      '--allow-origin',
      'https://app.example',
    ]);
    const url = (await server.waitFor(/Warden listening on (\S+)/))[1]!;
    assert.equal(await getWithHost(url, 'warden.example'), 200);
    assert.equal(await getWithHost(url, 'attacker.example'), 421);
    assert.equal(await getWithHost(url, 'warden.example', { origin: 'https://app.example' }), 200);
    assert.equal(await getWithHost(url, 'warden.example', { origin: 'https://evil.example' }), 403);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);

    for (const [flag, value] of [
      ['--allow-origin', 'https://app.example/'],
      ['--allow-origin', 'app.example'],
      ['--allow-host', 'bad host'],
    ]) {
      const r = await v.run('--json', 'start', '--port', '0', '--passphrase-file', v.pass, flag!, value!);
      assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).error.code, 'USAGE');
      assert.match(r.stderr, new RegExp(`^USAGE: ${flag} takes`, 'm'));
    }
  });
});
