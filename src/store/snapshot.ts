import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { writeFileAtomic } from '../core/atomic-file.ts';
import { WardenError } from '../core/errors.ts';

/**
 * A consistent copy of the database while other connections (a running server) may write to it:
 * SQLite's online backup API, which copies committed pages only and restarts if a writer changes
 * the source mid-copy, WAL content included. The copy goes through a 0600 file beside the
 * database (same protection as the database itself), read back and removed.
 */
export async function snapshotDatabase(path: string): Promise<Uint8Array> {
  const tmp = `${path}.snapshot-${randomBytes(6).toString('hex')}`;
  let source: Database.Database | undefined;
  try {
    closeSync(openSync(tmp, 'wx', 0o600));
    source = new Database(path, { fileMustExist: true });
    source.pragma('busy_timeout = 10000');
    await source.backup(tmp);
    return new Uint8Array(readFileSync(tmp));
  } catch (cause) {
    throw new WardenError('STORE_ERROR', 'cannot take a snapshot of the database', { path }, { cause });
  } finally {
    source?.close();
    rmSync(tmp, { force: true });
  }
}

/**
 * Writes a snapshot as the database of an empty home: atomically, mode 0600. Refuses when a
 * database with content is already there (a restore never merges into existing data).
 */
export function restoreDatabaseFile(path: string, snapshot: Uint8Array): void {
  if (existsSync(path) && statSync(path).size > 0) {
    throw new WardenError('VAULT_EXISTS', 'this home already has a database; restore into an empty home', {
      path,
    });
  }
  for (const stale of [`${path}-wal`, `${path}-shm`]) rmSync(stale, { force: true });
  // The backup authenticated it; this only catches a snapshot that is not SQLite at all.
  const magic = new TextDecoder().decode(snapshot.subarray(0, 16));
  if (magic !== 'SQLite format 3\u0000') {
    throw new WardenError('BACKUP_CORRUPT', 'the database in the backup is not a SQLite database');
  }
  writeFileAtomic(path, snapshot);
}
