import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The file-system calls an atomic write makes; injectable so tests can crash it at every step. */
export interface FsOps {
  openSync: typeof nodeFs.openSync;
  writeSync: (fd: number, data: Uint8Array) => number;
  fsyncSync: typeof nodeFs.fsyncSync;
  closeSync: typeof nodeFs.closeSync;
  linkSync: typeof nodeFs.linkSync;
  renameSync: typeof nodeFs.renameSync;
  unlinkSync: typeof nodeFs.unlinkSync;
  existsSync: typeof nodeFs.existsSync;
}

export const realFs: FsOps = {
  openSync: nodeFs.openSync,
  writeSync: (fd, data) => nodeFs.writeSync(fd, data),
  fsyncSync: nodeFs.fsyncSync,
  closeSync: nodeFs.closeSync,
  linkSync: nodeFs.linkSync,
  renameSync: nodeFs.renameSync,
  unlinkSync: nodeFs.unlinkSync,
  existsSync: nodeFs.existsSync,
};

function unlinkIfPresent(fs: FsOps, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function fsyncDir(fs: FsOps, dir: string): void {
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

/** Removes `path` if present and makes the removal durable (fsync of the directory). */
export function removeFileDurably(path: string, fs: FsOps = realFs): void {
  unlinkIfPresent(fs, path);
  fsyncDir(fs, dirname(path));
}

/**
 * Replaces `path` with `data` so that a crash at any point leaves either the old or the new
 * content at `path`, never a mix: write a temp file, fsync it, rename over, fsync the directory.
 * With `previousPath`, the version being replaced is kept there (hard link, so no copy).
 */
export function writeFileAtomic(
  path: string,
  data: Uint8Array,
  options: { previousPath?: string; mode?: number; fs?: FsOps } = {},
): void {
  const fs = options.fs ?? realFs;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp`);
  unlinkIfPresent(fs, tmp);
  const fd = fs.openSync(tmp, 'wx', options.mode ?? 0o600);
  try {
    let written = 0;
    while (written < data.length) written += fs.writeSync(fd, data.subarray(written));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (options.previousPath && fs.existsSync(path)) {
    const prevTmp = `${options.previousPath}.tmp`;
    unlinkIfPresent(fs, prevTmp);
    fs.linkSync(path, prevTmp);
    fs.renameSync(prevTmp, options.previousPath);
  }
  fs.renameSync(tmp, path);
  fsyncDir(fs, dir);
}
