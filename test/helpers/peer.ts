import type { Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { after } from 'node:test';

/**
 * Starts a peer on a free port (again, on another, if the one it picked was taken in between; up
 * to three tries) and stops it in `after()`. Await it once at the top of a test file: the peer then
 * serves every test of the file.
 */
export async function startPeer<T extends { stop(): Promise<void> }>(
  startOnce: () => Promise<T>,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const peer = await startOnce();
      after(() => peer.stop());
      return peer;
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error && /EADDRINUSE/.test(err.message))) break;
    }
  }
  throw lastError;
}

/** A port free on 127.0.0.1 a moment ago (taken in between, `startPeer` tries again). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Listens `server` on a free port of 127.0.0.1 and closes it in `after()`, its kept-alive
 * connections too (a client's would hold the file's process open). Its URL: http://127.0.0.1:PORT.
 */
export async function listenOnLoopback(server: HttpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
