import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WardenError } from '../core/errors.ts';
import { DEFAULT_YAML_LIMITS } from '../core/yaml.ts';

export const CONFIG_FILE = 'warden.yaml';
/** Names another configuration file than the home's warden.yaml. */
export const CONFIG_ENV = 'WARDEN_CONFIG';

/** Which file is the configuration, and why: `--file`, `$WARDEN_CONFIG`, else the home's. */
export interface ConfigFileRef {
  path: string;
  source: 'option' | 'env' | 'home';
}

/** `--file`, else `$WARDEN_CONFIG`, else `<home>/warden.yaml`. Empty is refused, never the current directory. */
export function configFileRef(
  home: string,
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ConfigFileRef {
  if (option === '') throw new WardenError('USAGE', '--file must not be empty');
  if (option !== undefined) return { path: resolve(option), source: 'option' };
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolve(fromEnv), source: 'env' };
  return { path: join(home, CONFIG_FILE), source: 'home' };
}

/**
 * The text of the configuration file, or null when the home's is absent (the defaults apply); a
 * file named by `--file` or `$WARDEN_CONFIG` must exist. Refused: anything but a regular file, over
 * 64 KiB, or writable by group or others (whoever can write it chooses the backends and the unsafe
 * options).
 */
export function readConfigText(ref: ConfigFileRef): string | null {
  let fd: number;
  try {
    fd = openSync(ref.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && ref.source === 'home') return null;
    throw new WardenError('FILE_NOT_FOUND', `cannot open the configuration file ${ref.path}`, {
      path: ref.path,
    });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new WardenError('FILE_NOT_FOUND', `${ref.path} is not a regular file`, { path: ref.path });
    if ((st.mode & 0o022) !== 0)
      throw new WardenError(
        'FILE_PERMISSIONS_TOO_OPEN',
        `${ref.path} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${ref.path}`,
        { path: ref.path },
      );
    if (st.size > DEFAULT_YAML_LIMITS.maxBytes)
      throw new WardenError('FILE_TOO_LARGE', `${ref.path} is larger than 64 KiB`, { path: ref.path });
    const buf = Buffer.alloc(st.size);
    let read = 0;
    while (read < st.size) {
      const n = readSync(fd, buf, read, st.size - read, null);
      if (n === 0) break;
      read += n;
    }
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    try {
      return text.decode(buf.subarray(0, read));
    } catch {
      throw new WardenError('CONFIG_INVALID', `${ref.path} is not UTF-8 text`, { file: ref.path });
    }
  } finally {
    closeSync(fd);
  }
}
