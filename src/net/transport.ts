import { request as httpRequest, type IncomingMessage } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { WardenError } from '../core/errors.ts';
import { spkiPinOf } from './pin.ts';

/**
 * One HTTP/1.1 exchange over a stream the caller opened (a SOCKS5 stream through Tor, or a direct
 * TCP connection): TLS with certificate verification always on for https (the system's CAs, the
 * name checked against the URL's host), the SPKI pin checked before a byte of the request is
 * written, no redirects followed, no connection reused (a pooled connection could carry another
 * identity's request on this one's circuit).
 */
export interface Exchange {
  url: URL;
  init: RequestInit;
  signal: AbortSignal;
  /** Opens the raw stream to the URL's host and port. */
  open(signal: AbortSignal): Promise<Socket>;
  /** base64 SHA-256 of the SubjectPublicKeyInfo the server must present (any of them); none: no pin. */
  pins?: readonly string[] | undefined;
}

function notSent(reason: string, message: string, cause?: unknown): WardenError {
  return new WardenError(
    'NET_UNREACHABLE',
    message,
    { reason, sent: false },
    cause === undefined ? undefined : { cause },
  );
}

/** TLS over an opened stream, the certificate verified for the URL's host and the pin checked. */
export function startTls(raw: Socket, url: URL, signal: AbortSignal, pins: readonly string[] | undefined) {
  return new Promise<TLSSocket>((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const tls = tlsConnect({
      socket: raw,
      // SNI only for names (RFC 6066); the certificate is checked against the host either way.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      host,
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
    });
    const onAbort = () => tls.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    tls.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(
        signal.aborted
          ? notSent('timeout', 'no TLS session in time', err)
          : notSent('tls', 'the TLS handshake failed (certificate not valid for this host?)', err),
      );
    });
    tls.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      if (pins && pins.length > 0) {
        const cert = tls.getPeerX509Certificate();
        const seen = cert ? spkiPinOf(cert) : null;
        if (seen === null || !pins.includes(seen)) {
          tls.destroy();
          return reject(
            new WardenError('NET_PIN_MISMATCH', "the server's public key is not the one pinned for it", {
              origin: `${url.protocol}//${url.host}`,
              sent: false,
            }),
          );
        }
      }
      resolve(tls);
    });
  });
}

function bodyOf(init: RequestInit): Buffer | undefined {
  const body = init.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new WardenError('INVALID_ARGUMENT', 'the net layer sends text or bytes as a request body');
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
    headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 0;
  const empty = status === 204 || status === 205 || status === 304;
  if (empty) res.resume();
  return new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
    status,
    statusText: res.statusMessage ?? '',
    headers,
  });
}

/** Sends the request and resolves with the response head; its body streams (bounded by `signal`). */
export async function exchange(x: Exchange): Promise<Response> {
  const body = bodyOf(x.init);
  const raw = await x.open(x.signal);
  const stream = x.url.protocol === 'https:' ? await startTls(raw, x.url, x.signal, x.pins) : raw;
  if (x.signal.aborted) {
    stream.destroy();
    throw notSent('timeout', 'aborted before the request was sent');
  }
  const headers: Record<string, string> = {};
  new Headers(x.init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  headers.host = x.url.host;
  headers.connection = 'close';
  if (body) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    let response: IncomingMessage | null = null;
    const req = httpRequest({
      createConnection: () => stream,
      method: x.init.method ?? 'GET',
      path: `${x.url.pathname}${x.url.search}`,
      headers,
    });
    const onAbort = () => {
      // The body's reader sees the signal's reason (a TimeoutError on the deadline).
      if (response) response.destroy(x.signal.reason);
      req.destroy(x.signal.reason);
    };
    x.signal.addEventListener('abort', onAbort, { once: true });
    req.once('response', (res) => {
      response = res;
      res.once('close', () => x.signal.removeEventListener('abort', onAbort));
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location !== undefined) {
        res.destroy();
        // As fetch's redirect: 'error': a redirect could lead to a host that was never approved.
        return reject(
          new WardenError('NET_UNREACHABLE', 'the server answered with a redirect, which is refused', {
            reason: 'redirect',
            httpStatus: status,
          }),
        );
      }
      resolve(toResponse(res));
    });
    req.once('error', (err) => {
      x.signal.removeEventListener('abort', onAbort);
      // The request may have left: not `sent: false`.
      reject(
        new WardenError(
          'NET_UNREACHABLE',
          x.signal.aborted ? 'no answer in time' : 'the connection failed during the request',
          { reason: x.signal.aborted ? 'timeout' : 'connect' },
          { cause: err },
        ),
      );
    });
    req.end(body);
  });
}
