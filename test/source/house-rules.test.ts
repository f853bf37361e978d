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

test('policy/ and risk/ are pure: no I/O, no clock reads, no randomness, only core/ of ours', () => {
  const offenders = sourceFiles(SRC)
    .filter((f) => /\/src\/(policy|risk)\//.test(f))
    .flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      const bad = [
        /from 'node:/.test(text) && 'imports node:',
        /Date\.now\(|new Date\(\)/.test(text) && 'reads the clock',
        /getRandomValues|randomBytes/.test(text) && 'uses randomness',
        /from '\.\.\/(keys|store|audit|config|gateway|api|cli|chains|net)\//.test(text) &&
          'imports another room',
      ].filter(Boolean);
      return bad.map((b) => `${f}: ${b}`);
    });
  assert.deepEqual(offenders, []);
});

test('front doors (cli/, api/) reach the other rooms only through the gateway', () => {
  const offenders = sourceFiles(SRC)
    .filter((f) => /\/src\/(cli|api)\//.test(f))
    .filter((f) =>
      /from '(\.\.\/)+(keys|store|audit|config|policy|risk|chains|net)\//.test(readFileSync(f, 'utf8')),
    );
  assert.deepEqual(offenders, []);
});

/**
 * The rooms table of ARCHITECTURE.md: which rooms each room may import. core/ holds the shared
 * types (Intent, Decision, WardenError) and imports nothing of ours, so every room may use it.
 */
const MAY_IMPORT: Record<string, string[]> = {
  core: [],
  config: ['core'],
  store: ['core'],
  keys: ['core', 'store'],
  audit: ['core', 'store', 'keys'],
  policy: ['core', 'store'],
  risk: ['core'],
  chains: ['core', 'keys', 'net'],
  net: ['core'],
  gateway: ['core', 'config', 'store', 'keys', 'audit', 'policy', 'risk', 'chains', 'net'],
  api: ['core', 'gateway'],
  cli: ['core', 'api', 'gateway'],
};

test('every room imports only the rooms ARCHITECTURE.md allows it', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const room = file.slice(SRC.length).split('/')[0]!;
    const allowed = MAY_IMPORT[room];
    if (!allowed) {
      offenders.push(`${file}: not in a room of the table`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '(\.[^']*)'/g)) {
      const target = join(file, '..', m[1]!);
      if (!target.startsWith(SRC)) continue;
      const targetRoom = target.slice(SRC.length).split('/')[0]!;
      if (targetRoom !== room && !allowed.includes(targetRoom))
        offenders.push(`${file.slice(SRC.length)} imports ${targetRoom}/`);
    }
  }
  assert.deepEqual(offenders, []);
});
