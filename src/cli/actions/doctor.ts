import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isLoopback } from '../../api/http/server.ts';
import { systemClock } from '../../core/clock.ts';
import { asWardenError } from '../../core/errors.ts';
import {
  probeIsolation,
  probeOnionService,
  probeTor,
  recordedOnion,
  serverRunning,
  verifyAuditSealed,
  Warden,
  type WardenConfig,
} from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { effectiveConfig } from './config-flags.ts';
import { type Check, fail, pass, warn } from './doctor-check.ts';
import { backupCheck, vaultChecks } from './doctor-vault.ts';

/**
 * `warden doctor`: the deployment checklist as checks, each PASS, WARN or FAIL with what to do
 * about it. Needs no passphrase and sends nothing outside this machine but two empty streams
 * through Tor to a backend Warden is configured to reach through it (the isolation check); Tor is
 * otherwise asked on its own ports (a SOCKS greeting, the control port). With `--passphrase-file` it also
 * unseals the vault for what only the sealed metadata knows (keys due, each identity's policy).
 * Exit 1 when a check fails.
 */

function endpoint(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Modules whose configuration names a route (net/'s Route), by name, with their endpoints' URLs. */
function routes(config: WardenConfig): { module: string; via: string; urls: string[] }[] {
  return Object.entries(config.protocols).flatMap(([module, c]) => {
    const route =
      (c as
        | {
            route?: { via?: unknown };
            rpcUrls?: Map<unknown, unknown>;
            nodes?: Map<unknown, unknown>;
            url?: unknown;
          }
        | undefined) ?? {};
    // A section without endpoints (EVM chains, Bitcoin nodes) reaches nothing, by any route.
    const endpoints = route.rpcUrls ?? route.nodes;
    if (endpoints instanceof Map && endpoints.size === 0) return [];
    const urls = [
      ...(endpoints instanceof Map ? [...endpoints.values()] : []).map((e) =>
        typeof e === 'string' ? e : (e as { url?: unknown } | null)?.url,
      ),
      route.url,
    ].filter((u): u is string => typeof u === 'string');
    return typeof route.route?.via === 'string' ? [{ module, via: route.route.via, urls }] : [];
  });
}

/** Where the isolation check's test streams may go: an endpoint Warden reaches through Tor anyway. */
function torTarget(config: WardenConfig): { host: string; port: number } | null {
  const urls = [
    ...routes(config).flatMap((r) => (r.via === 'tor' ? r.urls : [])),
    ...(config.nwc?.via === 'tor' ? config.nwc.relays : []),
  ];
  for (const raw of urls) {
    try {
      const url = new URL(raw);
      const secure = url.protocol === 'https:' || url.protocol === 'wss:';
      const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
      return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
    } catch {}
  }
  return null;
}

/** The control port doctor may ask, and its cookie (a managed tor's is in the home). */
function controlOf(home: string, tor: NonNullable<WardenConfig['tor']>) {
  const cookieFile = tor.managed ? join(home, 'tor', 'data', 'control_auth_cookie') : tor.cookieFile;
  return tor.control === null || cookieFile === null ? null : { control: tor.control, cookieFile };
}

async function torChecks(home: string, config: WardenConfig): Promise<Check[]> {
  const tor = config.tor;
  if (tor === null)
    return [
      warn(
        'tor.configured',
        'no tor section: every backend is reached from this machine’s own address',
        'add `tor: {managed: true}` (Warden runs tor) or `tor: {socks: 127.0.0.1:9050}` to warden.yaml (docs/config.md)',
      ),
    ];
  const checks = [
    pass(
      'tor.configured',
      `Tor is configured (SocksPort ${endpoint(tor.socks)}${tor.managed ? ', managed' : ''})`,
    ),
  ];
  const control = controlOf(home, tor);
  const probe = await probeTor({
    socks: tor.socks,
    control: control?.control ?? null,
    cookieFile: control?.cookieFile ?? null,
  });
  const down = tor.managed
    ? (id: string, m: string) => warn(id, m, 'Warden’s own tor runs while `warden start` runs; start it')
    : (id: string, m: string) =>
        fail(id, m, `start tor, or correct tor.socks / tor.control (${endpoint(tor.socks)})`);
  checks.push(
    probe.socks.ok
      ? pass('tor.reachable', `the SocksPort ${endpoint(tor.socks)} speaks SOCKS5 with username/password`)
      : down('tor.reachable', probe.socks.message),
  );
  const c = probe.control;
  if (c === null)
    checks.push(
      warn(
        'tor.bootstrapped',
        'no control port configured: bootstrap and isolation cannot be checked',
        'add tor.control and tor.cookie (Debian: ControlPort 9051, CookieAuthentication 1, /run/tor/control.authcookie)',
      ),
    );
  else if (!c.ok) checks.push(down('tor.bootstrapped', `the control port: ${c.message}`));
  else {
    checks.push(
      c.bootstrap === 100
        ? pass('tor.bootstrapped', `tor ${c.version} has bootstrapped`)
        : warn(
            'tor.bootstrapped',
            `tor has bootstrapped ${c.bootstrap} %`,
            'wait, or read tor’s log: it cannot reach the Tor network',
          ),
    );
    checks.push(
      c.bootstrap === 100
        ? await isolationCheck(config, tor, control!, c.isolatesBySocksAuth)
        : isolationByFlags(
            c.isolatesBySocksAuth,
            'tor has not bootstrapped, so two circuits cannot be tried yet',
          ),
    );
  }
  return checks;
}

const NO_ISOLATION_FIX = 'remove NoIsolateSOCKSAuth from the SocksPort line of the torrc';

/** What the SocksPort's flags say of isolation: NoIsolateSOCKSAuth fails, whatever else is seen. */
function isolationByFlags(flagsIsolate: boolean, why: string): Check {
  return flagsIsolate
    ? pass('tor.isolation', `the SocksPort isolates by SOCKS auth (IsolateSOCKSAuth); ${why}`)
    : fail(
        'tor.isolation',
        'the SocksPort has NoIsolateSOCKSAuth: identities would share circuits',
        NO_ISOLATION_FIX,
      );
}

/**
 * "Isolation working (two identities, two circuits)": two streams with two identities' kinds of
 * credentials to a Tor-routed backend, and the circuits Tor put them on. A port configured not to
 * isolate fails whatever one try shows (two circuits can be chance: one closed between the
 * streams); without such a backend, or when the test streams cannot be opened, the flags decide.
 */
async function isolationCheck(
  config: WardenConfig,
  tor: NonNullable<WardenConfig['tor']>,
  control: NonNullable<ReturnType<typeof controlOf>>,
  flagsIsolate: boolean,
): Promise<Check> {
  if (!flagsIsolate) return isolationByFlags(false, '');
  const target = torTarget(config);
  if (target === null)
    return isolationByFlags(true, 'no backend is reached through Tor to test two circuits against');
  const probe = await probeIsolation({ socks: tor.socks, ...control, target, timeoutMs: 15_000 });
  if (!probe.ok)
    return warn(
      'tor.isolation',
      `the SocksPort isolates by SOCKS auth, but the live test could not run: ${probe.message}`,
      'check that the backend is reachable through Tor, then run doctor again',
    );
  const [a, b] = probe.circuits;
  return probe.separate
    ? pass('tor.isolation', `two identities' test streams went out on two circuits (${a} and ${b})`)
    : fail(
        'tor.isolation',
        `two identities' test streams shared circuit ${a}: Tor would link identities`,
        'check the tor behind tor.socks: its SocksPort must isolate by SOCKS auth (and tor.control must be the same tor)',
      );
}

/**
 * "Onion service up when asked": asked is `listen.onion` (warden.yaml) or a running server that
 * published one (`--onion`, its address in server.onion); up is Tor hosting its descriptor.
 */
async function onionCheck(home: string, config: WardenConfig): Promise<Check> {
  const asked = config.listen.onion;
  const address = recordedOnion(home);
  if (!asked && address === null)
    return pass('onion.service', 'no onion service asked (`warden start --onion`, or listen.onion: true)');
  const control = config.tor && controlOf(home, config.tor);
  if (!control)
    return fail(
      'onion.service',
      'an onion service is asked but no Tor control port is configured to publish it',
      'add tor.control and tor.cookie to warden.yaml, or tor.managed: true',
    );
  const running = serverRunning(home);
  if (address === null)
    return running
      ? fail(
          'onion.service',
          'listen.onion is set but the running server publishes no onion service (started before it was set?)',
          'restart `warden start`',
        )
      : warn(
          'onion.service',
          'listen.onion is set: the onion service is published while `warden start` runs, and none runs',
          'start it: `warden start`',
        );
  const probe = await probeOnionService(control, address.slice(0, 56));
  if (probe.ok && probe.hosted)
    return pass('onion.service', `the API is published as http://${address}/ (Tor hosts its descriptor)`);
  const why = probe.ok ? 'Tor does not host it' : `Tor's control port: ${probe.message}`;
  const stale = !running && !asked;
  return (stale ? warn : fail)(
    'onion.service',
    `${running ? 'the running server' : 'a server that is gone'} published ${address}, and ${why}`,
    running
      ? 'restart `warden start --onion`, and read tor’s log if it happens again'
      : 'start `warden start --onion` (the last server was stopped without removing server.onion)',
  );
}

function routeCheck(config: WardenConfig): Check {
  const direct = routes(config).filter((r) => r.via === 'direct');
  if (config.unsafe.allow_direct_backends)
    return fail(
      'routes.direct',
      'unsafe.allow_direct_backends is on: backends may be reached from this machine’s own address',
      'remove `via: direct` from remote backends and unsafe.allow_direct_backends from warden.yaml',
    );
  if (config.tor === null && direct.length > 0)
    return warn(
      'routes.direct',
      `${direct.map((r) => r.module).join(', ')}: reached directly (no Tor configured)`,
      'configure a tor section: every backend then goes through Tor',
    );
  const local =
    direct.length > 0 ? ` (${direct.map((r) => r.module).join(', ')}: on this machine, direct)` : '';
  return pass('routes.direct', `no backend is reached directly from this machine’s address${local}`);
}

function bindCheck(config: WardenConfig): Check {
  const { host, tls } = config.listen;
  if (isLoopback(host)) return pass('api.bind', `the API listens on loopback (${host})`);
  if (tls) return pass('api.bind', `the API listens on ${host} behind TLS`);
  return fail(
    'api.bind',
    `the API would listen on ${host} without TLS`,
    'listen on 127.0.0.1, or configure listen.tls',
  );
}

/** The home 0700 and everything in it (and in its tor/) not readable by group or others. */
function permissionChecks(home: string, config: WardenConfig): Check[] {
  let dirMode: number;
  try {
    dirMode = statSync(home).mode & 0o777;
  } catch {
    return [warn('files.permissions', `no home at ${home}`, 'run `warden init`')];
  }
  const open: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory() && depth < 2) {
        if ((statSync(path).mode & 0o077) !== 0) open.push(`${path}/`);
        walk(path, depth + 1);
      } else if (e.isFile() && (statSync(path).mode & 0o077) !== 0) open.push(path);
    }
  };
  walk(home, 0);
  const checks: Check[] = [];
  if ((dirMode & 0o077) !== 0 || open.length > 0)
    checks.push(
      fail(
        'files.permissions',
        `readable by others: ${[...((dirMode & 0o077) !== 0 ? [`${home}/`] : []), ...open].slice(0, 8).join(', ')}`,
        `chmod 700 ${home} and chmod 600 the files in it`,
      ),
    );
  else checks.push(pass('files.permissions', `${home} is 0700 and its files 0600`));
  if (config.file.exists && config.file.source !== 'home') {
    const mode = statSync(config.file.path).mode & 0o777;
    if ((mode & 0o044) !== 0)
      checks.push(
        warn(
          'files.config',
          `${config.file.path} is readable by others (RPC URLs carry API keys)`,
          `chmod 600 ${config.file.path}`,
        ),
      );
  }
  return checks;
}

function debugCheck(ctx: CliContext, config: WardenConfig): Check {
  const on = [
    ...(ctx.io.env.WARDEN_DEBUG === '1' ? ['WARDEN_DEBUG=1'] : []),
    ...(/^(debug|trace)$/.test(ctx.io.env.WARDEN_LOG_LEVEL ?? '')
      ? [`WARDEN_LOG_LEVEL=${ctx.io.env.WARDEN_LOG_LEVEL}`]
      : []),
    ...(ctx.io.env.WARDEN_PASSPHRASE !== undefined ? ['WARDEN_PASSPHRASE set'] : []),
    ...Object.entries(config.unsafe)
      .filter(([name, value]) => value && name !== 'allow_direct_backends')
      .map(([name]) => `unsafe.${name}`),
  ];
  return on.length === 0
    ? pass('debug.off', 'no debug or unsafe option is on')
    : warn(
        'debug.off',
        `on: ${on.join(', ')}`,
        'turn these off in production (docs/config.md says what each gives up)',
      );
}

async function auditCheck(home: string): Promise<Check> {
  if (!Warden.exists(home)) return warn('audit.chain', `no vault in ${home}`, 'run `warden init`');
  try {
    const result = await verifyAuditSealed(home, {});
    // As `warden audit verify` judges it: sealed, the control plane is not checked.
    const broken = !result.ok && (result.problem !== undefined || !result.controlPlane?.length);
    if (!broken)
      return pass(
        'audit.chain',
        `the audit chain verifies (${result.records} records, ${result.checkpoints} checkpoints)`,
      );
    return fail(
      'audit.chain',
      `the audit chain does not verify: ${result.problem?.message ?? 'unknown problem'}`,
      'run `warden audit verify` and restore from a backup (docs)',
    );
  } catch (err) {
    const e = asWardenError(err);
    return fail('audit.chain', `${e.code}: ${e.message}`, 'run `warden audit verify`');
  }
}

export async function doctor(ctx: CliContext, command: Command): Promise<void> {
  const config = effectiveConfig(ctx);
  const passphraseFile: string | undefined = command.opts().passphraseFile;
  const checks = [
    ...(await torChecks(ctx.home, config)),
    await onionCheck(ctx.home, config),
    routeCheck(config),
    bindCheck(config),
    ...permissionChecks(ctx.home, config),
    debugCheck(ctx, config),
    await auditCheck(ctx.home),
    await backupCheck(ctx.home, (ctx.io.clock ?? systemClock).now()),
    ...(passphraseFile === undefined ? [] : await vaultChecks(ctx, passphraseFile)),
  ];
  const failed = checks.some((c) => c.status === 'FAIL');
  if (failed) ctx.exitCode = 1;
  ctx.print(
    checks.flatMap((c) => [
      `${c.status.padEnd(4)}  ${c.id.padEnd(18)} ${c.message}`,
      ...(c.fix ? [`      fix: ${c.fix}`] : []),
    ]),
    { ok: !failed, checks },
  );
}
