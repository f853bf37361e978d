import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { WardenError } from '../core/errors.ts';

const MAX_SECRET_FILE = 64 * 1024;

/**
 * Reads a file that holds a secret (passphrase, mnemonic, nsec) into bytes, never into a string.
 * Refuses files that group or others may read: a secret readable by others is already leaked.
 * Trailing newlines (CR/LF) are removed in place.
 */
export function readSecretFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new WardenError('FILE_NOT_FOUND', `cannot open ${path}`, { path });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new WardenError('FILE_NOT_FOUND', `${path} is not a regular file`, { path });
    if ((st.mode & 0o077) !== 0) {
      throw new WardenError(
        'FILE_PERMISSIONS_TOO_OPEN',
        `${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
        { path },
      );
    }
    if (st.size > MAX_SECRET_FILE)
      throw new WardenError('FILE_TOO_LARGE', `${path} is too large for a secret file (over 64 KiB)`, {
        path,
      });
    const buf = new Uint8Array(st.size);
    let read = 0;
    while (read < st.size) {
      const n = readSync(fd, buf, read, st.size - read, null);
      if (n === 0) break;
      read += n;
    }
    let end = read;
    while (end > 0 && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d)) end--;
    const out = buf.slice(0, end);
    buf.fill(0);
    return out;
  } finally {
    closeSync(fd);
  }
}
