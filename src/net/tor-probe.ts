import { isIP, connect as netConnect } from 'node:net';
import { asWardenError } from '../core/errors.ts';
import { refuseLookup, type SocksEndpoint } from './socks5.ts';
import { connectTorControl } from './tor-control.ts';

/**
 * What `warden doctor` asks of a configured tor without sending anything anywhere: does its
 * SocksPort speak SOCKS5 with username/password (the method isolation needs), and, with a control
 * port, has it bootstrapped, and does IsolateSOCKSAuth hold on that port.
 */
export interface TorProbe {
  socks: { ok: true } | { ok: false; code: string; message: string };
  /** null: no control port to ask. */
  control:
    | null
    | { ok: true; bootstrap: number; version: string; isolatesBySocksAuth: boolean }
    | { ok: false; code: string; message: string };
}

/** The SOCKS5 greeting offering method 2 only: the answer must be `05 02`. */
export function probeSocks(endpoint: SocksEndpoint, timeoutMs = 3_000): Promise<TorProbe['socks']> {
  if (isIP(endpoint.host) === 0)
    return Promise.resolve({
      ok: false,
      code: 'TOR_UNAVAILABLE',
      message: 'the SOCKS port must be an IP address',
    });
  return new Promise((resolve) => {
    const socket = netConnect({ host: endpoint.host, port: endpoint.port, lookup: refuseLookup });
    const done = (result: TorProbe['socks']) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, code: 'TOR_UNAVAILABLE', message: 'the SOCKS port did not answer in time' }),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(Buffer.from([5, 1, 2])));
    socket.once('data', (d: Buffer) =>
      done(
        d[0] === 5 && d[1] === 2
          ? { ok: true }
          : { ok: false, code: 'TOR_UNAVAILABLE', message: 'the SOCKS port refuses username/password auth' },
      ),
    );
    socket.once('error', () =>
      done({
        ok: false,
        code: 'TOR_UNAVAILABLE',
        message: `nothing answers on ${endpoint.host}:${endpoint.port}`,
      }),
    );
  });
}

export async function probeTor(settings: {
  socks: SocksEndpoint;
  control: SocksEndpoint | null;
  cookieFile: string | null;
}): Promise<TorProbe> {
  const socks = await probeSocks(settings.socks);
  if (settings.control === null || settings.cookieFile === null) return { socks, control: null };
  try {
    const control = await connectTorControl(settings.control, settings.cookieFile, 3_000);
    try {
      const phase = await control.getInfo('status/bootstrap-phase');
      const version = await control.getInfo('version');
      const ports = (await control.command('GETCONF SocksPort')).join(' ');
      const progress = Number(/PROGRESS=(\d+)/.exec(phase)?.[1] ?? '0');
      return {
        socks,
        control: {
          ok: true,
          bootstrap: progress,
          version: version.slice(0, 40),
          // IsolateSOCKSAuth is on unless a port turns it off.
          isolatesBySocksAuth: !/NoIsolateSOCKSAuth/i.test(ports),
        },
      };
    } finally {
      control.close();
    }
  } catch (err) {
    const e = asWardenError(err);
    return { socks, control: { ok: false, code: e.code, message: e.message } };
  }
}

/**
 * Whether the tor behind `control` hosts the onion service `serviceId` (56 base32 characters):
 * `GETINFO hs/service/desc/id/<id>` answers with its current descriptor for a service this tor
 * runs, whichever control connection added it, and refuses (552) one it does not run.
 */
export async function probeOnionService(
  settings: { control: SocksEndpoint; cookieFile: string },
  serviceId: string,
): Promise<{ ok: true; hosted: boolean } | { ok: false; code: string; message: string }> {
  if (!/^[a-z2-7]{56}$/.test(serviceId))
    return { ok: false, code: 'INVALID_ARGUMENT', message: 'not an onion service id' };
  let control: Awaited<ReturnType<typeof connectTorControl>>;
  try {
    control = await connectTorControl(settings.control, settings.cookieFile, 3_000);
  } catch (err) {
    const e = asWardenError(err);
    return { ok: false, code: e.code, message: e.message };
  }
  try {
    const descriptor = await control.getInfo(`hs/service/desc/id/${serviceId}`);
    return { ok: true, hosted: descriptor.includes('hs-descriptor') };
  } catch (err) {
    const e = asWardenError(err);
    if (e.code === 'TOR_UNAVAILABLE' && e.details.reason === 'control_refused')
      return { ok: true, hosted: false };
    return { ok: false, code: e.code, message: e.message };
  } finally {
    control.close();
  }
}
