import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIsolation } from '../../src/net/isolation.ts';
import { socksConnect } from '../../src/net/socks5.ts';
import { connectTorControl, type TorControl } from '../../src/net/tor-control.ts';
import { freePort, startPeer } from './peer.ts';

/**
 * A private Tor network on loopback (../shared/recipes/tor-test-network.md): 3 directory
 * authorities and 2 relays (all exits, enough for onion-service paths) and the clients asked for,
 * each with a SocksPort and a cookie-authenticated ControlPort. Nothing leaves 127.0.0.1: exits
 * resolve names against 127.0.0.1 (where no DNS server answers), and tests target loopback only.
 * Start it once per test file (`startTorNetwork`): bootstrap takes 6–24 s on two cores.
 */
export interface TorClientNode {
  name: string;
  socks: { host: string; port: number };
  control: { host: string; port: number };
  cookieFile: string;
  /** A control connection of the test's own (closed with the network). */
  controller(): Promise<TorControl>;
  /** Stops this client's tor (SIGTERM, waits for exit). */
  kill(): Promise<void>;
}

export interface TorNetwork {
  clients: TorClientNode[];
  /** Milliseconds from the first spawn until every client carried a real HTTP request. */
  readyMs: number;
  /** What a client's torrc needs to join this network (for Warden's managed tor). */
  joinTorrc: string[];
  stop(): Promise<void>;
}

const COMMON = [
  'TestingTorNetwork 1',
  'AssumeReachable 1',
  'PathsNeededToBuildCircuits 0.67',
  'TestingDirAuthVoteExit *',
  'TestingDirAuthVoteHSDir *',
  'TestingDirAuthVoteGuard *',
  'TestingMinExitFlagThreshold 0',
  'V3AuthNIntervalsValid 2',
  'RunAsDaemon 0',
  'ShutdownWaitLength 0',
  'CookieAuthentication 1',
  'SafeLogging 0',
];

const SERVER = [
  'SocksPort 0',
  'Address 127.0.0.1',
  'TestingServerDownloadInitialDelay 0',
  'TestingServerConsensusDownloadInitialDelay 0',
  'ExitRelay 1',
  'ExitPolicyRejectPrivate 0',
  'ExitPolicyRejectLocalInterfaces 0',
  'ExitPolicy accept private:*',
  'ExitPolicy accept *:*',
  'ServerDNSDetectHijacking 0',
  'ServerDNSAllowBrokenConfig 1',
];

const AUTHORITY = [
  'AuthoritativeDirectory 1',
  'V3AuthoritativeDirectory 1',
  'ContactInfo test@test.test',
  'TestingV3AuthInitialVotingInterval 5',
  'TestingV3AuthInitialVoteDelay 2',
  'TestingV3AuthInitialDistDelay 2',
  'V3AuthVotingInterval 10',
  'V3AuthVoteDelay 2',
  'V3AuthDistDelay 2',
];

const READY_LIMIT_MS = 90_000;

interface Node {
  name: string;
  dir: string;
  control: number;
  or?: number;
  dirPort?: number;
  socks?: number;
  child?: ChildProcess;
  /** The end of tor's standard error: a port it cannot bind is told there, before any log file. */
  stderrTail?: string;
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Authority keys (tor-gencert) and the DirAuthority line that names them. */
function authorityLine(node: Node): string {
  const keys = join(node.dir, 'keys');
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  execFileSync(
    'tor-gencert',
    [
      '--create-identity-key',
      '--passphrase-fd',
      '0',
      '-i',
      join(keys, 'authority_identity_key'),
      '-s',
      join(keys, 'authority_signing_key'),
      '-c',
      join(keys, 'authority_certificate'),
      '-m',
      '12',
      '-a',
      `127.0.0.1:${node.dirPort}`,
    ],
    { input: '\n', stdio: ['pipe', 'ignore', 'ignore'] },
  );
  const cert = readFileSync(join(keys, 'authority_certificate'), 'utf8');
  const v3 = /^fingerprint ([0-9A-F]{40})$/m.exec(cert)?.[1];
  const listed = execFileSync(
    'tor',
    [
      '--ignore-missing-torrc',
      '-f',
      '/dev/null',
      '--orport',
      '1',
      '--datadirectory',
      node.dir,
      '--list-fingerprint',
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  const fp = listed.trim().split(/\s+/).slice(1).join('');
  if (!v3 || !/^[0-9A-F]{40}$/.test(fp)) throw new Error(`authority ${node.name}: no fingerprint`);
  return `DirAuthority ${node.name} orport=${node.or} no-v2 v3ident=${v3} 127.0.0.1:${node.dirPort} ${fp}`;
}

function torrc(node: Node, role: 'authority' | 'relay' | 'client', dirAuthorities: string[]): string {
  const lines = [
    ...COMMON,
    `DataDirectory ${node.dir}`,
    `Nickname ${node.name}`,
    `ControlPort 127.0.0.1:${node.control}`,
    `Log notice file ${join(node.dir, 'notice.log')}`,
    ...dirAuthorities,
  ];
  if (role === 'client') {
    lines.push(`SocksPort 127.0.0.1:${node.socks}`, 'VanguardsLiteEnabled 0');
  } else {
    writeFileSync(join(node.dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    lines.push(
      ...SERVER,
      `ORPort 127.0.0.1:${node.or}`,
      `DirPort 127.0.0.1:${node.dirPort}`,
      `ServerDNSResolvConfFile ${join(node.dir, 'resolv.conf')}`,
    );
    if (role === 'authority') lines.push(...AUTHORITY);
  }
  // tor exits if this test process dies without stopping it.
  lines.push(`__OwningControllerProcess ${process.pid}`);
  return `${lines.join('\n')}\n`;
}

function spawnTor(node: Node, config: string): void {
  const file = join(node.dir, 'torrc');
  writeFileSync(file, config);
  node.child = spawn('tor', ['-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  node.stderrTail = '';
  const keep = (chunk: Buffer) => {
    node.stderrTail = (node.stderrTail + chunk.toString('utf8')).slice(-1_500);
  };
  node.child.stdout?.on('data', keep);
  node.child.stderr?.on('data', keep);
}

/**
 * Why a tor process exited. A port taken between `freePort` and tor's bind (another test file's
 * peer) is named EADDRINUSE, so that `startPeer` starts the network again on new ports.
 */
function exitReason(node: Node): string {
  const output = `${node.stderrTail ?? ''}\n${tail(node)}`;
  const taken = /Address already in use/.test(output) ? ' (EADDRINUSE)' : '';
  return `tor ${node.name} exited${taken}: ${output.slice(-1_500)}`;
}

/** One GET through the client's SOCKS port to a loopback server; true on 200. */
async function probe(socksPort: number, targetPort: number): Promise<boolean> {
  const { username, password } = createIsolation().credentials(null);
  try {
    const socket = await socksConnect({
      proxy: { host: '127.0.0.1', port: socksPort },
      host: '127.0.0.1',
      port: targetPort,
      username,
      password,
      signal: AbortSignal.timeout(10_000),
    });
    return await new Promise<boolean>((resolve) => {
      let reply = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        reply += d;
      });
      socket.on('close', () => resolve(reply.startsWith('HTTP/1.1 200')));
      socket.on('error', () => resolve(false));
      socket.write('GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n');
    });
  } catch {
    return false;
  }
}

async function startOnce(clientCount: number): Promise<TorNetwork> {
  const root = mkdtempSync(join(tmpdir(), 'warden-tor-'));
  const nodes: Node[] = [];
  const make = async (name: string, role: 'authority' | 'relay' | 'client'): Promise<Node> => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const node: Node = { name, dir, control: await freePort() };
    if (role === 'client') node.socks = await freePort();
    else {
      node.or = await freePort();
      node.dirPort = await freePort();
    }
    nodes.push(node);
    return node;
  };
  const controllers: TorControl[] = [];
  const probeTarget: Server = createServer((_req, res) => res.end('ok'));
  const stop = async () => {
    for (const c of controllers) c.close();
    await Promise.all(nodes.map((n) => stopChild(n.child)));
    await new Promise<void>((resolve) => probeTarget.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const authorities = [
      await make('auth0', 'authority'),
      await make('auth1', 'authority'),
      await make('auth2', 'authority'),
    ];
    const relays = [await make('relay0', 'relay'), await make('relay1', 'relay')];
    const clients: Node[] = [];
    for (let i = 0; i < clientCount; i++) clients.push(await make(`client${i}`, 'client'));
    const lines = authorities.map(authorityLine);
    const started = performance.now();
    for (const n of authorities) spawnTor(n, torrc(n, 'authority', lines));
    for (const n of relays) spawnTor(n, torrc(n, 'relay', lines));
    for (const n of clients) spawnTor(n, torrc(n, 'client', lines));

    await new Promise<void>((resolve) => probeTarget.listen(0, '127.0.0.1', resolve));
    const targetPort = (probeTarget.address() as { port: number }).port;
    // Bootstrap 100 % does not prove the exits work: wait for a real answer through each client.
    const deadline = started + READY_LIMIT_MS;
    for (const c of clients) {
      while (!(await probe(c.socks!, targetPort))) {
        const dead = nodes.find((n) => n.child && (n.child.exitCode !== null || n.child.signalCode !== null));
        if (dead) throw new Error(exitReason(dead));
        if (performance.now() > deadline) throw new Error(`tor network not ready: ${tail(c)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const readyMs = Math.round(performance.now() - started);
    const own = /^(RunAsDaemon|CookieAuthentication|ShutdownWaitLength) /;
    return {
      readyMs,
      joinTorrc: [...COMMON.filter((l) => !own.test(l)), ...lines, 'VanguardsLiteEnabled 0'],
      stop,
      clients: clients.map((c) => ({
        name: c.name,
        socks: { host: '127.0.0.1', port: c.socks! },
        control: { host: '127.0.0.1', port: c.control },
        cookieFile: join(c.dir, 'control_auth_cookie'),
        async controller() {
          const control = await connectTorControl(
            { host: '127.0.0.1', port: c.control },
            join(c.dir, 'control_auth_cookie'),
          );
          controllers.push(control);
          return control;
        },
        kill: () => stopChild(c.child),
      })),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function tail(node: Node): string {
  try {
    return readFileSync(join(node.dir, 'notice.log'), 'utf8').slice(-1_500);
  } catch {
    return '(no log)';
  }
}

/** The network, stopped after the file's tests. */
export function startTorNetwork(options: { clients: number }): Promise<TorNetwork> {
  return startPeer(() => startOnce(options.clients));
}
