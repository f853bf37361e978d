import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { WardenError } from '../core/errors.ts';

/**
 * A SOCKS5 client (RFC 1928, username/password auth of RFC 1929) for Tor's SocksPort: only
 * CONNECT, always with authentication, and the destination name sent as is (ATYP=DOMAIN) so Tor
 * resolves it at the exit; nothing here ever resolves a name on this machine. Why our own and not
 * a package: it is ~150 lines over node:net, the alternatives are marked experimental (undici's
 * Socks5ProxyAgent) or pool connections by origin (which would let two identities share a
 * circuit), and owning it lets the DNS guard sit on the one socket that is opened.
 */
export interface SocksEndpoint {
  /** An IP literal: the proxy itself is never found by a name lookup. */
  host: string;
  port: number;
}

export interface SocksConnectOptions {
  proxy: SocksEndpoint;
  /** The destination as the URL names it: a name (sent to Tor), or an IP literal. */
  host: string;
  port: number;
  /** RFC 1929 credentials: Tor isolates streams with different ones onto different circuits. */
  username: string;
  password: string;
  signal: AbortSignal;
}

/** Any attempt to resolve a name on a Tor-mode socket fails: a leak guard, not a code path. */
export const refuseLookup: LookupFunction = (hostname, _options, callback) => {
  callback(
    new WardenError('NET_DNS_REFUSED', 'a local DNS lookup was attempted in Tor mode and refused', {
      reason: 'dns_guard',
      hostLength: hostname.length,
    }) as unknown as NodeJS.ErrnoException,
    '',
    0,
  );
};

/** RFC 1928 reply codes, with Tor's onion-service extensions (0xF0–0xF7, prop304). */
const REPLY_REASONS: Readonly<Record<number, string>> = {
  1: 'socks_general_failure',
  2: 'socks_not_allowed',
  3: 'socks_network_unreachable',
  4: 'socks_host_unreachable',
  5: 'socks_connection_refused',
  6: 'socks_ttl_expired',
  7: 'socks_command_not_supported',
  8: 'socks_address_type_not_supported',
  240: 'onion_descriptor_not_found',
  241: 'onion_descriptor_invalid',
  242: 'onion_intro_failed',
  243: 'onion_rendezvous_failed',
  244: 'onion_missing_client_auth',
  245: 'onion_wrong_client_auth',
  246: 'onion_bad_address',
  247: 'onion_intro_timeout',
};

/** Tor unreachable, or not speaking SOCKS5 as asked: nothing of the request was sent. */
function torUnavailable(reason: string, message: string, cause?: unknown): WardenError {
  return new WardenError(
    'TOR_UNAVAILABLE',
    message,
    { reason, sent: false },
    cause === undefined ? undefined : { cause },
  );
}

function destination(host: string, port: number): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  const family = isIP(host);
  if (family === 4) return Buffer.concat([Buffer.from([1, ...host.split('.').map(Number)]), portBytes]);
  if (family === 6) return Buffer.concat([Buffer.from([4]), ipv6Bytes(host), portBytes]);
  const name = Buffer.from(host, 'ascii');
  if (name.length === 0 || name.length > 255 || !/^[a-z0-9.-]+$/i.test(host))
    throw new WardenError('NET_URL_REFUSED', 'the host name cannot be sent through SOCKS5', {
      hostLength: host.length,
    });
  return Buffer.concat([Buffer.from([3, name.length]), name, portBytes]);
}

/** The 16 bytes of an IPv6 literal (already validated by isIP), `::` expanded. */
function ipv6Bytes(host: string): Buffer {
  const [head = '', tail = ''] = host.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const h = groups(head);
  const t = groups(tail);
  const all = host.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

/** Reads exactly the bytes asked for, in order, from a socket in the handshake. */
class Reader {
  #buffer = Buffer.alloc(0);
  #waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: unknown) => void } | null = null;
  #failed: unknown = null;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#pump();
    });
    const fail = (err: unknown) => {
      this.#failed = err;
      this.#waiting?.reject(err);
      this.#waiting = null;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(torUnavailable('socks_closed', 'the SOCKS proxy closed the connection')));
  }

  read(n: number): Promise<Buffer> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#waiting = { n, resolve, reject };
      this.#pump();
    });
  }

  /** Bytes already received past the handshake (none from Tor, which waits for the client). */
  rest(): Buffer {
    return this.#buffer;
  }

  #pump(): void {
    if (!this.#waiting || this.#buffer.length < this.#waiting.n) return;
    const { n, resolve } = this.#waiting;
    this.#waiting = null;
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    resolve(out);
  }
}

async function handshake(socket: Socket, reader: Reader, options: SocksConnectOptions): Promise<void> {
  const user = Buffer.from(options.username, 'utf8');
  const pass = Buffer.from(options.password, 'utf8');
  if (user.length < 1 || user.length > 255 || pass.length < 1 || pass.length > 255)
    throw new WardenError('INVALID_ARGUMENT', 'SOCKS credentials must be 1 to 255 bytes each');
  const target = destination(options.host, options.port);
  // Only method 2 (username/password) is offered: without credentials there is no isolation.
  socket.write(Buffer.from([5, 1, 2]));
  const method = await reader.read(2);
  if (method[0] !== 5 || method[1] !== 2)
    throw torUnavailable('socks_auth_refused', 'the SOCKS proxy does not accept username/password auth');
  socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
  const auth = await reader.read(2);
  if (auth[1] !== 0) throw torUnavailable('socks_auth_failed', 'the SOCKS proxy refused the credentials');
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), target]));
  const head = await reader.read(4);
  if (head[0] !== 5) throw torUnavailable('socks_protocol', 'the proxy does not speak SOCKS5');
  const code = head[1] ?? 1;
  if (code !== 0) {
    // The stream never opened: nothing of the request left this machine.
    throw new WardenError('NET_UNREACHABLE', 'Tor could not open a stream to the destination', {
      reason: REPLY_REASONS[code] ?? 'socks_failure',
      socksReply: code,
      sent: false,
    });
  }
  // The bound address Tor reports (always 0.0.0.0:0 in practice): read and ignored.
  const atyp = head[3];
  const length = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? ((await reader.read(1))[0] ?? 0) : -1;
  if (length < 0) throw torUnavailable('socks_protocol', 'the SOCKS reply has an unknown address type');
  await reader.read(length + 2);
}

/**
 * A TCP stream to `host:port` through the SOCKS5 proxy, ready for HTTP or TLS. TOR_UNAVAILABLE when
 * the proxy cannot be reached or will not talk; NET_UNREACHABLE (`sent: false`) when Tor could not
 * open the stream. Either way nothing of the caller's request was written.
 */
export function socksConnect(options: SocksConnectOptions): Promise<Socket> {
  if (isIP(options.proxy.host) === 0)
    return Promise.reject(torUnavailable('socks_address', 'the SOCKS proxy must be an IP address'));
  return new Promise((resolve, reject) => {
    const socket = netConnect({
      host: options.proxy.host,
      port: options.proxy.port,
      lookup: refuseLookup,
    });
    const reader = new Reader(socket);
    let done = false;
    let connected = false;
    const finish = (err: unknown, ok?: Socket) => {
      if (done) return;
      done = true;
      options.signal.removeEventListener('abort', onAbort);
      if (err !== null) {
        socket.destroy();
        reject(err);
      } else if (ok) {
        socket.removeAllListeners('data');
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        const rest = reader.rest();
        if (rest.length > 0) socket.unshift(rest);
        resolve(ok);
      }
    };
    const onAbort = () =>
      finish(
        new WardenError('NET_UNREACHABLE', 'no stream through Tor in time', {
          reason:
            options.signal.reason instanceof Error && options.signal.reason.name === 'TimeoutError'
              ? 'timeout'
              : 'aborted',
          sent: false,
        }),
      );
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      connected = true;
      handshake(socket, reader, options).then(
        () => finish(null, socket),
        (err) =>
          finish(
            err instanceof WardenError
              ? err
              : torUnavailable('socks_io', 'the connection to the SOCKS proxy failed in the handshake', err),
          ),
      );
    });
    socket.once('error', (err) => {
      if (connected) return;
      finish(
        torUnavailable(
          'socks_connect',
          `Tor's SOCKS port ${options.proxy.host}:${options.proxy.port} does not answer; nothing was sent`,
          err,
        ),
      );
    });
  });
}
