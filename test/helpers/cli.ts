import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildIsCurrent } from '../../bin/build-stamp.js';
import { tempDir } from './home.ts';

export const WARDEN_BIN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

let built = false;

/**
 * The arguments of a `warden` process: `node bin/warden.js …`, which must run the compiled CLI
 * (what users run), so a stale build is refused here rather than silently tested through tsx.
 */
export function wardenArgs(args: string[]): string[] {
  built ||= buildIsCurrent();
  if (!built)
    throw new Error(
      'dist/ is not the build of src/: run `npm run build` (scripts/run-tests.js builds first)',
    );
  return [WARDEN_BIN, ...args];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `warden` executable in a child process, stdin closed unless `input` is given. */
export function runWarden(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<CliResult> {
  const env = { ...process.env, ...options.env };
  // The test runner's own variables must not leak a passphrase into children.
  if (!options.env || !('WARDEN_PASSPHRASE' in options.env)) delete env.WARDEN_PASSPHRASE;
  return runNode(wardenArgs(args), { ...options, env });
}

/** Runs `node <argv>` with exactly `env` (the parent's when not given), collecting its output. */
export function runNode(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Writes a file with the given mode (0600 unless told) and returns its path. */
export function writeFileMode(dir: string, name: string, content: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

/** Flags that make argon2id cheap in CLI tests; the default parameters are tested on their own. */
export const FAST_KDF = ['--kdf-memory', '8', '--kdf-iterations', '1'];

export interface ServerProcess {
  url: string;
  child: import('node:child_process').ChildProcess;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `warden … start` as a real server process and resolves once it prints its URL. */
export async function startWardenServer(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const env = { ...process.env, ...extraEnv };
  delete env.WARDEN_PASSPHRASE;
  const child = spawn(process.execPath, wardenArgs(args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /Warden listening on (https?:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    exited.then((code) => reject(new Error(`warden start exited with ${code}: ${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliVault {
  dir: string;
  home: string;
  /** The vault passphrase file (0600). */
  pass: string;
  /** `warden --home HOME …` with no passphrase source (for tests of the sources themselves). */
  run(...args: string[]): Promise<CliResult>;
  /** `warden --home HOME … --passphrase-file PASS`. */
  w(...args: string[]): Promise<CliResult>;
  /** `warden --home HOME start --port 0 --passphrase-file PASS …` as a server process. */
  start(...extra: string[]): Promise<ServerProcess>;
}

/** A fresh home with an initialized vault (cheap KDF), driven through the real `warden` executable. */
export async function initCliVault(label: string, passphrase: string): Promise<CliVault> {
  const dir = tempDir(label);
  const home = join(dir, 'home');
  const pass = writeFileMode(dir, 'pass', `${passphrase}\n`);
  const run = (...args: string[]) => runWarden(['--home', home, ...args]);
  const init = await run('init', '--passphrase-file', pass, ...FAST_KDF);
  if (init.code !== 0) throw new Error(`warden init failed: ${init.stderr}`);
  return {
    dir,
    home,
    pass,
    run,
    w: (...args) => run(...args, '--passphrase-file', pass),
    start: (...extra) =>
      startWardenServer(['--home', home, 'start', '--port', '0', '--passphrase-file', pass, ...extra]),
  };
}

/**
 * Through the CLI: sets `policyYaml` as the identity's policy and creates an agent token for it
 * with one capability; returns the token. `w` runs `warden` with the vault passphrase.
 */
export async function agentWithPolicy(
  w: (...args: string[]) => Promise<CliResult>,
  dir: string,
  identity: string,
  policyYaml: string,
  capability: string | readonly string[] = 'nostr:sign',
): Promise<string> {
  const policy = writeFileMode(dir, `${identity}-policy.yaml`, policyYaml);
  const set = await w('policy', 'set', policy, '--identity', identity);
  if (set.code !== 0) throw new Error(`warden policy set failed: ${set.stderr}`);
  const created = await w(
    '--json',
    'token',
    'create',
    '--role',
    'agent',
    '--identity',
    identity,
    ...[capability].flat().flatMap((c) => ['--cap', c]),
  );
  if (created.code !== 0) throw new Error(`warden token create failed: ${created.stderr}`);
  return JSON.parse(created.stdout).token;
}
