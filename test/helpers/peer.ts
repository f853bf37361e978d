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
