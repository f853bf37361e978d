import { chmodSync, mkdirSync, type Stats, statSync } from 'node:fs';
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
  /** Held (a kernel file lock) by the running `warden start`; `serverPid` names its process. */
  serverLock: string;
  serverPid: string;
  /** The onion address the running server published (`--onion`), for `warden doctor`; removed at its stop. */
  serverOnion: string;
  /**
   * One lock file per process that executes requests, held while it runs (store/executor-lock.ts):
   * a request `executing` under a lock nobody holds was left by a process that is gone.
   */
  executors: string;
}

/** `--home`, else `$WARDEN_HOME`, else `~/.warden`. Empty is refused, never the current directory. */
export function resolveHomeDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option === '') throw new WardenError('USAGE', '--home must not be empty');
  const fromEnv = env.WARDEN_HOME === '' ? undefined : env.WARDEN_HOME;
  return resolve(option ?? fromEnv ?? join(homedir(), '.warden'));
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
    serverLock: join(dir, 'server.lock'),
    serverPid: join(dir, 'server.pid'),
    serverOnion: join(dir, 'server.onion'),
    executors: join(dir, 'executors'),
  };
}

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/**
 * Creates the home directory (0700) if needed. An existing one must be a directory of ours (else
 * HOME_INSECURE); if others could read or enter it, it is tightened to 0700.
 */
export function ensureHome(dir: string): HomeLayout {
  const existing = statOrNull(dir);
  if (existing && !existing.isDirectory())
    throw new WardenError('HOME_INSECURE', 'the Warden home is not a directory', { home: dir });
  if (!existing) mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const st = statSync(dir);
  if (process.getuid && st.uid !== process.getuid())
    throw new WardenError('HOME_INSECURE', 'the Warden home belongs to another user', { home: dir });
  if ((st.mode & 0o077) !== 0) chmodSync(dir, DIR_MODE);
  return homeLayout(dir);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
