import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { bytesToHex } from '@noble/hashes/utils.js';
import { WardenError } from '../core/errors.ts';
import { refuseLookup, type SocksEndpoint } from './socks5.ts';

/**
 * A client of Tor's control port (control-spec.txt): cookie authentication, commands answered in
 * order, asynchronous events (650) to a listener. Warden uses it to watch its managed tor
 * bootstrap, for `doctor`, and (next) ADD_ONION; it never sends SIGNAL NEWNYM (isolation.ts).
 */
export interface TorControl {
  /** The reply lines of one command (without their status codes); TOR_UNAVAILABLE if not 250. */
  command(line: string): Promise<string[]>;
  /**
   * The same for a command that carries a secret (ADD_ONION's key): given as bytes, written as
   * they are, never turned into a string here; the caller wipes them after the call.
   */
  commandBytes(line: Uint8Array): Promise<string[]>;
  /** `GETINFO key` → its value. */
  getInfo(key: string): Promise<string>;
  /** Subscribes to events (`SETEVENTS …`); each arrives as its line without `650 `. */
  onEvent(listener: (line: string) => void): void;
  close(): void;
}

interface Pending {
  resolve(lines: string[]): void;
  reject(err: unknown): void;
}

function unavailable(reason: string, message: string, cause?: unknown): WardenError {
  return new WardenError('TOR_UNAVAILABLE', message, { reason }, cause === undefined ? undefined : { cause });
}

export async function connectTorControl(
  endpoint: SocksEndpoint,
  cookieFile: string,
  timeoutMs = 10_000,
): Promise<TorControl> {
  if (isIP(endpoint.host) === 0)
    throw unavailable('control_address', 'the control port must be an IP address');
  const socket: Socket = netConnect({ host: endpoint.host, port: endpoint.port, lookup: refuseLookup });
  socket.setEncoding('utf8');
  const pending: Pending[] = [];
  const listeners: ((line: string) => void)[] = [];
  let buffer = '';
  let lines: string[] = [];
  let inData = false;
  let closedError: unknown = null;

  const failAll = (err: unknown) => {
    closedError = err;
    for (const p of pending.splice(0)) p.reject(err);
  };
  socket.on('error', (err) => failAll(unavailable('control_io', 'the Tor control connection failed', err)));
  socket.on('close', () => failAll(unavailable('control_closed', 'the Tor control connection closed')));
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      if (inData) {
        if (line === '.') inData = false;
        else lines.push(line.startsWith('..') ? line.slice(1) : line);
        continue;
      }
      const status = line.slice(0, 3);
      const sep = line[3];
      const text = line.slice(4);
      if (status === '650') {
        if (sep === ' ') for (const l of listeners) l(text);
        continue;
      }
      lines.push(text);
      if (sep === '+') inData = true;
      if (sep !== ' ') continue;
      const done = lines;
      lines = [];
      const p = pending.shift();
      if (!p) continue;
      if (status === '250') p.resolve(done);
      else
        p.reject(
          unavailable('control_refused', `the Tor control port refused: ${status} ${text.slice(0, 120)}`),
        );
    }
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unavailable('control_connect', 'the Tor control port did not answer in time'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(
        unavailable(
          'control_connect',
          `Tor's control port ${endpoint.host}:${endpoint.port} does not answer`,
          err,
        ),
      );
    });
  });

  const CRLF = Uint8Array.of(0x0d, 0x0a);
  const commandBytes = (line: Uint8Array) => {
    if (line.includes(0x0d) || line.includes(0x0a))
      return Promise.reject(new WardenError('INVALID_ARGUMENT', 'one control command per line'));
    if (closedError !== null) return Promise.reject(closedError);
    return new Promise<string[]>((resolve, reject) => {
      pending.push({ resolve, reject });
      // One write of a copy the socket owns (it may still be queued when the caller wipes `line`).
      const frame = new Uint8Array(line.length + 2);
      frame.set(line);
      frame.set(CRLF, line.length);
      socket.write(frame, () => frame.fill(0));
    });
  };
  const command = (line: string) => commandBytes(new TextEncoder().encode(line));

  let cookie: Buffer;
  try {
    cookie = readFileSync(cookieFile);
  } catch (err) {
    socket.destroy();
    throw unavailable('control_cookie', 'the Tor control cookie file cannot be read', err);
  }
  try {
    await command(`AUTHENTICATE ${bytesToHex(new Uint8Array(cookie))}`);
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    cookie.fill(0);
  }

  return {
    command,
    commandBytes,
    async getInfo(key) {
      const reply = await command(`GETINFO ${key}`);
      const first = reply[0] ?? '';
      const prefix = `${key}=`;
      if (!first.startsWith(prefix)) return reply.slice(0, -1).join('\n');
      // A multi-line value (250+key=) is the data block that follows; a one-line value follows `=`.
      return first.length > prefix.length ? first.slice(prefix.length) : reply.slice(1, -1).join('\n');
    },
    onEvent(listener) {
      listeners.push(listener);
    },
    close() {
      socket.end();
      socket.destroy();
    },
  };
}
