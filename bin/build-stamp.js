/**
 * Is dist/ the build of the sources as they are now? The build (scripts/build.js) records a
 * fingerprint of the sources taken before it compiles; `warden` compares it with the sources at
 * each start. The fingerprint is one stat per file (path, size, mtime), never a read, so the check
 * costs a few milliseconds; any edit, new or deleted file under src/ makes the build stale.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const STAMP = join(DIST, 'build-stamp.json');
/** Besides src/, what decides what the build emits. */
const BUILD_CONFIG = ['tsconfig.json', 'tsconfig.build.json'];

function describeTree(dir, rel, lines) {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) describeTree(path, `${rel}${entry.name}/`, lines);
    else describeFile(path, `${rel}${entry.name}`, lines);
  }
}

function describeFile(path, rel, lines) {
  const s = statSync(path);
  lines.push(`${rel}\0${s.size}\0${s.mtimeMs}`);
}

/** A hash of the name, size and modification time of every input of the build. */
export function sourceFingerprint() {
  const lines = [];
  for (const name of BUILD_CONFIG) describeFile(join(ROOT, name), name, lines);
  describeTree(join(ROOT, 'src'), 'src/', lines);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** The stamp's fingerprint, or null when there is no (readable) stamp. */
export function stampedFingerprint() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8')).sources ?? null;
  } catch {
    return null;
  }
}

export function buildIsCurrent() {
  const stamped = stampedFingerprint();
  return stamped !== null && stamped === sourceFingerprint();
}
