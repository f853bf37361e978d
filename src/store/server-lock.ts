import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { WardenError } from '../core/errors.ts';

export interface ServerLock {
  release(): void;
}

/**
 * One server per home: an exclusive SQLite lock on `lockPath`, held for the life of the server.
 * Like the keystore lock, the kernel releases it when the process exits or is killed (kill -9
 * included), so a crashed server never leaves a stale lock behind. The pid beside it (0600) is
 * only there to be named in ALREADY_RUNNING; it is never trusted to decide anything.
 */
export function acquireServerLock(lockPath: string, pidPath: string): ServerLock {
  closeSync(openSync(lockPath, 'a', 0o600));
  let db: Database.Database;
  try {
    db = new Database(lockPath, { timeout: 0 });
  } catch (cause) {
    throw new WardenError('STORE_ERROR', 'cannot open the server lock file', { path: lockPath }, { cause });
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY')
      throw new WardenError('STORE_ERROR', 'cannot take the server lock', { path: lockPath }, { cause: err });
    const pid = readPid(pidPath);
    throw new WardenError(
      'ALREADY_RUNNING',
      `a Warden server is already running on this home${pid === null ? '' : ` (pid ${pid})`}; stop it first`,
      { pid, lock: lockPath },
    );
  }
  writeFileSync(pidPath, `${process.pid}\n`, { mode: 0o600 });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        unlinkSync(pidPath);
      } catch {}
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function readPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
