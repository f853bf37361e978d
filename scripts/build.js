#!/usr/bin/env node
// Compiles src/ to dist/ (tsconfig.build.json), then writes what the compiled CLI reads at start:
// its facts (dist/cli/facts.json, see src/cli/facts.ts) and, last, the build stamp that tells
// bin/warden.js the build is current (bin/build-stamp.js). Run by `npm ci` and `npm install` (the
// prepare script), by `npm run build`, and by scripts/run-tests.js (`--if-stale`).
//
// Types are not checked here (`--noCheck`): `npm test` checks them (`tsc --noEmit`) before any
// test, and a build that refused to emit on a type error would leave a change in progress with no
// CLI at all. The sources are written for per-file transpilation (isolatedModules), so the
// emitted JavaScript does not depend on the checker.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIsCurrent, DIST, ROOT, STAMP, sourceFingerprint } from '../bin/build-stamp.js';

const SRC = join(ROOT, 'src');
const BUILD_INFO = join(DIST, '.tsbuildinfo');

if (process.argv.includes('--if-stale') && buildIsCurrent()) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without devDependencies: warden still runs, from the sources through tsx.
  console.error('build: typescript is not installed; skipping the build (warden runs the sources via tsx)');
  process.exit(0);
}

// Taken before compiling: a source edited during the build leaves the build stale, not stamped.
const fingerprint = sourceFingerprint();
rmSync(STAMP, { force: true });

function compile() {
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--noCheck'], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

function files(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

compile();
// Incremental builds trust their build info: an output deleted by hand would stay missing.
const sources = files(SRC, '.ts').filter((f) => !f.endsWith('.d.ts'));
if (sources.some((f) => !existsSync(join(DIST, f.replace(/\.ts$/, '.js'))))) {
  rmSync(BUILD_INFO, { force: true });
  compile();
}
// What a deleted source left behind goes too: dist/ holds the build of src/ and nothing else.
const expected = new Set(sources.map((f) => f.replace(/\.ts$/, '.js')));
for (const f of files(DIST, '.js')) if (!expected.has(f)) rmSync(join(DIST, f));

const { computeFacts, FACTS_FILE } = await import(pathToFileURL(join(DIST, 'cli', 'facts.js')).href);
writeFileSync(join(DIST, 'cli', FACTS_FILE), `${JSON.stringify(await computeFacts(), null, 2)}\n`);

const temporary = `${STAMP}.tmp`;
writeFileSync(temporary, `${JSON.stringify({ sources: fingerprint, builtAt: new Date().toISOString() })}\n`);
renameSync(temporary, STAMP);
