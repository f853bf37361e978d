/**
 * A WebSocket over a stream the net layer opened (Tor or direct), for Nostr relays. The `ws`
 * client is handed the stream as its connection, so it never dials (nor looks up a name) itself;
 * for wss: the stream is TLS with the certificate verified and the pin checked first (transport.ts).
 * No compression (a decompression bomb, and the CRIME family, are not worth the bytes saved) and a
 * bound on each message. Callers get the narrow NetWebSocket, text messages only.
 */
import type { Socket } from 'node:net';
import WebSocketClient from 'ws';
import { WardenError } from '../core/errors.ts';
import { startTls } from './transport.ts';

/** A relay's message larger than this closes the socket (NIP-01 events are far smaller). */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;

export interface NetWebSocket {
  readonly isOpen: boolean;
  send(text: string): void;
  close(): void;
  onMessage(fn: (text: string) => void): void;
  /** Once, however it closed (the peer, the network, `close`). */
  onClose(fn: () => void): void;
  onError(fn: (err: Error) => void): void;
}

function narrow(ws: WebSocketClient): NetWebSocket {
  return {
    get isOpen() {
      return ws.readyState === ws.OPEN;
    },
    send: (text) => ws.send(text),
    close: () => ws.close(),
    onMessage: (fn) => ws.on('message', (data, isBinary) => (isBinary ? undefined : fn(String(data)))),
    onClose: (fn) => ws.once('close', () => fn()),
    onError: (fn) => ws.on('error', fn),
  };
}

export async function openWebSocket(
  url: URL,
  open: (signal: AbortSignal) => Promise<Socket>,
  timeoutMs: number,
  pins: readonly string[] | undefined,
): Promise<NetWebSocket> {
  const signal = AbortSignal.timeout(timeoutMs);
  const raw = await open(signal);
  const stream = url.protocol === 'wss:' ? await startTls(raw, url, signal, pins) : raw;
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(url, {
      createConnection: () => stream,
      perMessageDeflate: false,
      maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
      followRedirects: false,
      handshakeTimeout: timeoutMs,
    });
    const fail = (reason: string, cause?: unknown) => {
      ws.terminate();
      reject(
        new WardenError(
          'NET_UNREACHABLE',
          reason === 'timeout' ? 'no WebSocket handshake in time' : 'the WebSocket handshake failed',
          { origin: `${url.protocol}//${url.host}`, reason, sent: false },
          cause === undefined ? undefined : { cause },
        ),
      );
    };
    const onAbort = () => fail('timeout');
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(narrow(ws));
    });
    ws.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      fail('connect', err);
    });
    ws.once('unexpected-response', () => {
      signal.removeEventListener('abort', onAbort);
      fail('rejected');
    });
  });
}
