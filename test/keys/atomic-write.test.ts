import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type FsOps, realFs, writeFileAtomic } from '../../src/core/atomic-file.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { Vault } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

class Crash extends Error {}

/** A file system that fails on its n-th call, as a power cut at that point would. */
function crashingFs(failAt: number): FsOps & { calls: string[] } {
  const calls: string[] = [];
  const wrap =
    <K extends keyof FsOps>(name: K) =>
    (...args: unknown[]) => {
      if (name !== 'existsSync') {
        calls.push(name);
        if (calls.length === failAt) throw new Crash(`crash at ${name}`);
      }
      return (realFs[name] as (...a: unknown[]) => unknown)(...args);
    };
  const fs = Object.fromEntries(
    Object.keys(realFs).map((k) => [k, wrap(k as keyof FsOps)]),
  ) as unknown as FsOps;
  return Object.assign(fs, { calls });
}

test('a crash at every step of a keystore write leaves a keystore that opens, old or new', async () => {
  const layout = tempHome('atomic');
  const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
  const vault = await Vault.create(layout, passphrase(), clock, TEST_KDF);
  vault.setAuditSink(async () => {});
  await vault.commitNew('vault.init');
  await vault.createIdentity('old');
  const oldBytes = readFileSync(layout.keystore);
  await vault.createIdentity('new');
  const newBytes = readFileSync(layout.keystore);

  // Count the steps of one full write.
  writeFileAtomic(layout.keystore, oldBytes, { previousPath: layout.keystorePrevious });
  const probe = crashingFs(Number.POSITIVE_INFINITY);
  writeFileAtomic(layout.keystore, oldBytes, { previousPath: layout.keystorePrevious, fs: probe });
  const steps = probe.calls.length;
  assert.ok(steps >= 8, `expected at least 8 file-system steps, saw ${probe.calls.join(',')}`);

  const outcomes = new Set<string>();
  for (let failAt = 1; failAt <= steps; failAt++) {
    writeFileAtomic(layout.keystore, oldBytes, { previousPath: layout.keystorePrevious });
    const fs = crashingFs(failAt);
    assert.throws(
      () => writeFileAtomic(layout.keystore, newBytes, { previousPath: layout.keystorePrevious, fs }),
      Crash,
    );
    const { vault: opened } = await Vault.unseal(layout, passphrase(), clock);
    const names = opened.listIdentities().map((i) => i.name);
    assert.ok(
      JSON.stringify(names) === '["old"]' || JSON.stringify(names) === '["new","old"]',
      `after a crash at step ${failAt} (${fs.calls.at(-1)}) the keystore held ${names}`,
    );
    outcomes.add(names.join('+'));
    // A later write still succeeds despite the leftovers of the crashed one.
    writeFileAtomic(layout.keystore, newBytes, { previousPath: layout.keystorePrevious });
  }
  assert.deepEqual(
    [...outcomes].sort(),
    ['new+old', 'old'],
    'crashes before the rename keep old, after it give new',
  );
  // The previous version is kept next to the current one.
  assert.ok(existsSync(layout.keystorePrevious));
  assert.deepEqual(readFileSync(layout.keystorePrevious), newBytes);
});
