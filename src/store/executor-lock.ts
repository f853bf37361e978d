import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WardenError } from '../core/errors.ts';

/**
 * Who is running an `executing` request. Every process that executes requests (the server, any
 * gateway that sends) holds, for as long as it may execute, an exclusive SQLite lock on a file
 * of its own, `<dir>/<id>.lock`, and writes `id` on each request row it moves to `executing`.
 * The kernel releases the lock when the process ends, however it ends (`kill -9` included), so a
 * row whose executor's file can be locked by someone else belongs to a process that is gone:
 * whatever it was doing can never settle, and its row can be taken over (gateway/orphans.ts).
 * A lock that is held means the executor is alive (in this process or another): its rows are
 * never touched. The same kernel lock, not a pid, decides, as for the server lock: a pid can be
 * reused, and there is no moment when two processes both hold the lock.
 *
 * An id is random and never used again, so once its executor is gone nobody can become it.
 */
export interface ExecutorLock {
  readonly id: string;
  /** Releases the lock and removes its file (a clean stop: every execution settled). */
  release(): void;
}

const ID = /^exe_[a-z2-7]{26}$/;
const fileOf = (dir: string, id: string) => join(dir, `${id}.lock`);

function exclusive(path: string): Database.Database | null {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (cause) {
    throw new WardenError('STORE_ERROR', 'cannot open an executor lock', { path }, { cause });
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return null;
    throw new WardenError('STORE_ERROR', 'cannot take an executor lock', { path }, { cause: err });
  }
}

/** Takes the lock of a fresh executor `id` in `dir` (created 0700); held until release or exit. */
export function acquireExecutorLock(dir: string, id: string): ExecutorLock {
  if (!ID.test(id)) throw new WardenError('INTERNAL', 'not an executor id');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = fileOf(dir, id);
  // Locked under another name, then renamed into place (the lock is the inode's, so it moves
  // with it): a prober never finds the file of a live executor before its lock is taken.
  const pending = `${path}.new`;
  let db: Database.Database | null;
  try {
    // Created 0600 before SQLite opens it, like every file of the home; `wx`: never someone else's.
    closeSync(openSync(pending, 'wx', 0o600));
    db = exclusive(pending);
    if (db && existsSync(path)) {
      db.close();
      db = null;
    }
    if (db) renameSync(pending, path);
  } catch (cause) {
    if (cause instanceof WardenError) throw cause;
    throw new WardenError('STORE_ERROR', 'cannot create an executor lock', { path }, { cause });
  }
  if (!db) {
    rmSync(pending, { force: true });
    throw new WardenError('STORE_ERROR', 'cannot create an executor lock: it exists already', { path });
  }
  const held = db;
  let released = false;
  return {
    id,
    release() {
      if (released) return;
      released = true;
      // Removed while still held: a prober that opened it before sees a lock it cannot take.
      try {
        unlinkSync(path);
      } catch {}
      held.exec('ROLLBACK');
      held.close();
    },
  };
}

/** The executors that have a lock file in `dir` (alive or gone), by id. */
export function executorIds(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => (n.endsWith('.lock') && ID.test(n.slice(0, -5)) ? [n.slice(0, -5)] : []));
}

/**
 * Runs `fn` only if executor `id` is certainly gone: its lock file exists and its lock can be
 * taken. The lock is held while `fn` runs, and the file removed after `fn` succeeded (its rows
 * are then taken over). A missing file proves nothing (someone may have deleted the file of an
 * executor that still runs): its rows are left to the operator, as rows without an executor are.
 */
export async function whenExecutorGone<T>(
  dir: string,
  id: string,
  fn: () => Promise<T>,
): Promise<{ ran: false } | { ran: true; value: T }> {
  if (!ID.test(id)) return { ran: false };
  const path = fileOf(dir, id);
  try {
    // Opened without creating: SQLite would create a missing file, and a fresh file locks.
    closeSync(openSync(path, 'r+'));
  } catch {
    return { ran: false };
  }
  const db = exclusive(path);
  if (!db) return { ran: false };
  try {
    const value = await fn();
    try {
      unlinkSync(path);
    } catch {}
    return { ran: true, value };
  } finally {
    db.exec('ROLLBACK');
    db.close();
  }
}
