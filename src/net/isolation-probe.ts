import type { Socket } from 'node:net';
import { asWardenError } from '../core/errors.ts';
import { createIsolation } from './isolation.ts';
import { type SocksEndpoint, socksConnect } from './socks5.ts';
import { connectTorControl, type TorControl } from './tor-control.ts';

/**
 * The live half of doctor's isolation check, "two identities, two circuits": two streams through
 * the SocksPort, each with a fresh nonce as two identities' requests would have, to a destination
 * Warden is configured to reach through Tor anyway; the control port's STREAM events say which
 * circuit Tor attached each one to. Nothing is sent on either stream, and both are closed at once.
 *
 * Streams are told apart by their source port (a NEW event's SOURCE_ADDR), so whatever else this
 * tor carries at the same time (a running Warden's requests) cannot be taken for them.
 */
export type IsolationProbe =
  | { ok: true; separate: boolean; circuits: [string, string] }
  | { ok: false; code: string; message: string };

export interface IsolationProbeSettings {
  socks: SocksEndpoint;
  control: SocksEndpoint;
  cookieFile: string;
  /** Where the test streams go: a host and port of a configured Tor-routed backend. */
  target: { host: string; port: number };
  timeoutMs?: number;
}

/** What the STREAM events told: stream id by source port, and each stream's circuit once attached. */
class StreamWatch {
  readonly #bySourcePort = new Map<number, string>();
  readonly #circuitOf = new Map<string, string>();

  take(line: string): void {
    // STREAM <StreamID> <StreamStatus> <CircuitID> <Target> [key=value …]
    const [kind, id, status, circuit] = line.split(' ');
    if (kind !== 'STREAM' || id === undefined || circuit === undefined) return;
    const source = / SOURCE_ADDR=[^ ]*:(\d+)(?: |$)/.exec(line)?.[1];
    if (status === 'NEW' && source !== undefined) this.#bySourcePort.set(Number(source), id);
    if (circuit !== '0' && (status === 'SENTCONNECT' || status === 'SUCCEEDED'))
      this.#circuitOf.set(id, circuit);
  }

  circuitOf(sourcePort: number): string | undefined {
    const id = this.#bySourcePort.get(sourcePort);
    return id === undefined ? undefined : this.#circuitOf.get(id);
  }
}

export async function probeIsolation(settings: IsolationProbeSettings): Promise<IsolationProbe> {
  const timeoutMs = settings.timeoutMs ?? 30_000;
  const where = `${settings.target.host}:${settings.target.port}`;
  let control: TorControl;
  try {
    control = await connectTorControl(settings.control, settings.cookieFile, 3_000);
  } catch (err) {
    const e = asWardenError(err);
    return { ok: false, code: e.code, message: `the control port: ${e.message}` };
  }
  const watch = new StreamWatch();
  control.onEvent((line) => watch.take(line));
  const sockets: Socket[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await control.command('SETEVENTS STREAM');
    // Two isolations, one identity each: what two identities' requests present to Tor.
    const identities = [createIsolation(), createIsolation()].map((iso) => iso.credentials('probe'));
    for (const credentials of identities) {
      try {
        sockets.push(
          await socksConnect({ proxy: settings.socks, ...settings.target, ...credentials, signal }),
        );
      } catch (err) {
        const e = asWardenError(err);
        return { ok: false, code: e.code, message: `a test stream to ${where} failed: ${e.message}` };
      }
    }
    const ports = sockets.map((s) => s.localPort ?? 0);
    // The SOCKS answer can come before its STREAM event reaches the control connection.
    const deadline = performance.now() + 3_000;
    let circuits = ports.map((p) => watch.circuitOf(p));
    while (circuits.some((c) => c === undefined) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      circuits = ports.map((p) => watch.circuitOf(p));
    }
    const [a, b] = circuits;
    if (a === undefined || b === undefined)
      return {
        ok: false,
        code: 'TOR_UNAVAILABLE',
        message:
          'the control port saw no circuit for the test streams: do tor.socks and tor.control belong to the same tor?',
      };
    return { ok: true, separate: a !== b, circuits: [a, b] };
  } catch (err) {
    const e = asWardenError(err);
    return { ok: false, code: e.code, message: e.message };
  } finally {
    for (const s of sockets) s.destroy();
    await control.command('SETEVENTS').catch(() => undefined);
    control.close();
  }
}
