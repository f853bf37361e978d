import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardenError } from '../core/errors.ts';
import type { SocksEndpoint } from './socks5.ts';
import { connectTorControl, type TorControl } from './tor-control.ts';

/**
 * Warden's own tor (`tor: {managed: true}`): Debian's `tor` run as a child with a torrc Warden
 * writes into the home (`<home>/tor/torrc`), its DataDirectory `<home>/tor/data` mode 0700, a
 * SocksPort that isolates by SOCKS credentials (isolation.ts) and a ControlPort with cookie auth
 * only. `__OwningControllerProcess` makes tor exit when Warden does, even on a crash.
 */
export interface ManagedTorOptions {
  /** `<home>/tor`: created 0700. */
  dir: string;
  socks: SocksEndpoint;
  control: SocksEndpoint;
  /** Lines appended to the torrc (the tests' private network: TestingTorNetwork, DirAuthority…). */
  extraTorrc?: readonly string[];
  /** Until the control port answers. Default 30 s. */
  startTimeoutMs?: number;
  torBinary?: string;
}

export interface ManagedTor {
  readonly torrc: string;
  readonly dataDir: string;
  readonly cookieFile: string;
  readonly control: TorControl;
  /** Resolves at bootstrap 100 %; TOR_UNAVAILABLE after `timeoutMs` or if tor exits. */
  bootstrapped(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

function endpoint(e: SocksEndpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export function managedTorrc(options: ManagedTorOptions, dataDir: string, pid: number): string {
  return `${[
    '# Written by Warden at each start (tor: {managed: true}); edits are overwritten.',
    `DataDirectory ${dataDir}`,
    // IsolateSOCKSAuth is tor's default; said here so that no edit of the defaults can drop it.
    `SocksPort ${endpoint(options.socks)} IsolateSOCKSAuth`,
    `ControlPort ${endpoint(options.control)}`,
    'CookieAuthentication 1',
    `CookieAuthFile ${join(dataDir, 'control_auth_cookie')}`,
    'ClientOnly 1',
    'RunAsDaemon 0',
    `Log notice file ${join(dataDir, 'notice.log')}`,
    `__OwningControllerProcess ${pid}`,
    ...(options.extraTorrc ?? []),
  ].join('\n')}\n`;
}

function lastLog(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, 'notice.log'), 'utf8')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ')
      .slice(0, 600);
  } catch {
    return '(no log)';
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startManagedTor(options: ManagedTorOptions): Promise<ManagedTor> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  chmodSync(options.dir, 0o700);
  const dataDir = join(options.dir, 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const torrc = join(options.dir, 'torrc');
  writeFileSync(torrc, managedTorrc(options, dataDir, process.pid), { mode: 0o600 });
  chmodSync(torrc, 0o600);
  const cookieFile = join(dataDir, 'control_auth_cookie');

  const child = spawn(options.torBinary ?? 'tor', ['-f', torrc, '--ignore-missing-torrc'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let exited: string | null = null;
  child.stderr?.resume();
  child.once('error', (err) => {
    exited = `could not be started (${err.message}); is the tor package installed?`;
  });
  child.once('exit', (code, signal) => {
    exited ??= `exited with ${code ?? signal}: ${lastLog(dataDir)}`;
  });
  const fail = (message: string) => new WardenError('TOR_UNAVAILABLE', message, { reason: 'managed_tor' });

  const deadline = performance.now() + (options.startTimeoutMs ?? 30_000);
  let control: TorControl | null = null;
  try {
    while (control === null) {
      if (exited !== null) throw fail(`Warden's tor ${exited}`);
      if (performance.now() > deadline)
        throw fail(`Warden's tor did not open its control port: ${lastLog(dataDir)}`);
      if (existsSync(cookieFile)) {
        try {
          control = await connectTorControl(options.control, cookieFile, 2_000);
          break;
        } catch {
          // Not listening yet, or the cookie of a previous run: try again.
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  const ctl = control;

  return {
    torrc,
    dataDir,
    cookieFile,
    control: ctl,
    async bootstrapped(timeoutMs) {
      const until = performance.now() + timeoutMs;
      for (;;) {
        if (exited !== null) throw fail(`Warden's tor ${exited}`);
        const phase = await ctl.getInfo('status/bootstrap-phase');
        if (/PROGRESS=100\b/.test(phase)) return;
        if (performance.now() > until)
          throw fail(`Warden's tor has not bootstrapped: ${phase.slice(0, 200)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      ctl.close();
      await stopChild(child);
    },
  };
}
