import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ensureHome, type HomeLayout } from '../../src/config/home.ts';
import { utf8 } from '../../src/core/bytes.ts';

/** Cheap argon2id settings for tests (the minimum the code accepts); defaults are tested apart. */
export const TEST_KDF = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 } as const;
export const TEST_PASSPHRASE = 'correct horse battery staple 42!';

export function passphrase(text = TEST_PASSPHRASE): Uint8Array {
  return utf8(text);
}

/** A fresh home directory, removed when the test file ends. */
export function tempHome(label = 'home'): HomeLayout {
  const dir = mkdtempSync(join(tmpdir(), `warden-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return ensureHome(join(dir, 'home'));
}

export function tempDir(label = 'dir'): string {
  const dir = mkdtempSync(join(tmpdir(), `warden-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
