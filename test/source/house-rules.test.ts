import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.[cm]?[jt]s$/.test(name) ? [path] : [];
  });
}

test('Math.random appears nowhere in src/ (key material and ids come from the OS CSPRNG)', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 10, 'the scan found the sources');
  const offenders = files.filter((f) =>
    /Math\s*\.\s*random|Math\s*\[\s*['"`]random/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(offenders, []);
});

test('front doors (cli/, api/) reach keys/, store/ and audit/ only through the gateway', () => {
  const offenders = sourceFiles(SRC)
    .filter((f) => /\/src\/(cli|api)\//.test(f))
    .filter((f) => /from '(\.\.\/)+(keys|store|audit|config)\//.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});
