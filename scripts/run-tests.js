#!/usr/bin/env node
// Runs every test file under test/ (or the files named) with node:test and tsx. Node 20's
// `--test` does not expand globs, so the files are listed here. The tests that run `warden` run
// the compiled CLI, as users do, so the build comes first when src/ changed since the last one.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const build = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { stdio: 'inherit' });
// The other tests can still run; those that run `warden` refuse a stale build with a message.
if (build.status !== 0) console.error('run-tests: the build failed; tests that run `warden` will fail');

const only = process.argv.slice(2);
const files = only.length > 0 ? only : findTests('test').sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
