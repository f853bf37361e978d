import { readFileSync, rmSync } from 'node:fs';
import { ensureHome, homeLayout } from '../config/home.ts';
import { acquireServerLock, type ServerLock } from '../store/server-lock.ts';

export type { ServerLock };

/**
 * Claims a home for one running server (ALREADY_RUNNING, with the running one's pid, otherwise).
 * Held until `release()` or the process ends, however it ends.
 */
export function claimServerHome(home: string): ServerLock {
  const layout = ensureHome(home);
  const lock = acquireServerLock(layout.serverLock, layout.serverPid);
  // The lock proves no server runs here: an onion address left by a killed one is stale.
  rmSync(layout.serverOnion, { force: true });
  return lock;
}

/**
 * Whether the process server.pid names is alive: for `warden doctor`'s words only (a pid file is
 * never trusted to decide anything; a reused pid would say yes).
 */
export function serverRunning(home: string): boolean {
  try {
    const pid = Number(readFileSync(homeLayout(home).serverPid, 'utf8').trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
