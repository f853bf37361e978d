import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { WardenError } from '../core/errors.ts';

/** Where everything of one vault lives. Directory 0700, files 0600. */
export interface HomeLayout {
  dir: string;
  keystore: string;
  keystorePrevious: string;
  keystoreLock: string;
  database: string;
  log: string;
  unsealThrottle: string;
  auditHead: string;
}

export function resolveHomeDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = option ?? env.WARDEN_HOME ?? join(homedir(), '.warden');
  return resolve(chosen);
}

export function homeLayout(dir: string): HomeLayout {
  return {
    dir,
    keystore: join(dir, 'keystore.json'),
    keystorePrevious: join(dir, 'keystore.json.prev'),
    keystoreLock: join(dir, 'keystore.lock'),
    database: join(dir, 'warden.db'),
    log: join(dir, 'warden.log'),
    unsealThrottle: join(dir, 'unseal-throttle.json'),
    auditHead: join(dir, 'audit-head.json'),
  };
}

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Creates the home directory (0700) if needed and refuses one that others can read or write. */
export function ensureHome(dir: string): HomeLayout {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const st = statSync(dir);
  if (!st.isDirectory())
    throw new WardenError('HOME_INSECURE', 'the Warden home is not a directory', { home: dir });
  if ((st.mode & 0o077) !== 0) {
    // A directory we just created respects the mode; an existing one is tightened only if it is ours.
    if (process.getuid && st.uid !== process.getuid()) {
      throw new WardenError('HOME_INSECURE', 'the Warden home belongs to another user', { home: dir });
    }
    chmodSync(dir, DIR_MODE);
  }
  return homeLayout(dir);
}
