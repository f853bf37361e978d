import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { WardenError } from '../core/errors.ts';
import { KeyedMutex } from '../core/mutex.ts';

/** Callers in this process queue here first; the file lock then orders processes. */
const inProcess = new KeyedMutex();
const POLL_MS = 25;

/**
 * An exclusive lock across processes around a read-modify-write of a file (the keystore). It is
 * SQLite's own file lock: BEGIN EXCLUSIVE on an empty database at `path`. The kernel releases it
 * when the holder exits or is killed, so there is no stale lock to take over and no moment when two
 * processes both believe they hold it (which a pid file cannot promise). Waiting polls with an async
 * sleep, so the event loop never blocks; after `timeoutMs` the caller gets VAULT_LOCKED.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  return inProcess.run(path, async () => {
    // Created with mode 0600 before SQLite opens it (the data directory holds only private files).
    closeSync(openSync(path, 'a', 0o600));
    let lock: Database.Database;
    try {
      lock = new Database(path, { timeout: 0 });
    } catch (cause) {
      throw new WardenError('STORE_ERROR', 'cannot open the lock file', { path }, { cause });
    }
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          lock.exec('BEGIN EXCLUSIVE');
          break;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY') {
            throw new WardenError('STORE_ERROR', 'cannot take the lock', { path }, { cause: err });
          }
          if (Date.now() > deadline) {
            throw new WardenError('VAULT_LOCKED', 'the keystore is locked by another process', { path });
          }
          await sleep(POLL_MS);
        }
      }
      try {
        return await fn();
      } finally {
        lock.exec('ROLLBACK');
      }
    } finally {
      lock.close();
    }
  });
}
