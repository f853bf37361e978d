import { ensureHome } from '../config/home.ts';
import { acquireServerLock, type ServerLock } from '../store/server-lock.ts';

export type { ServerLock };

/**
 * Claims a home for one running server (ALREADY_RUNNING, with the running one's pid, otherwise).
 * Held until `release()` or the process ends, however it ends.
 */
export function claimServerHome(home: string): ServerLock {
  const layout = ensureHome(home);
  return acquireServerLock(layout.serverLock, layout.serverPid);
}
