import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixedClock } from '../../src/core/clock.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { delayFor, MAX_DELAY_MS, UnsealThrottle } from '../../src/keys/throttle.ts';
import { Vault } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

test('delays grow after three free attempts and are capped', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(delayFor), [0, 0, 0, 1000, 2000, 4000, 8000]);
  assert.equal(delayFor(100), MAX_DELAY_MS);
});

test('repeated wrong passphrases slow down later attempts; a success resets and reports the count', async () => {
  const layout = tempHome('throttle');
  const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
  const v = await Vault.create(layout, passphrase(), clock, TEST_KDF);
  v.setAuditSink(async () => {});
  await v.commitNew('vault.init');
  const slept: number[] = [];
  const throttle = new UnsealThrottle(layout.unsealThrottle, clock, async (ms) => {
    slept.push(ms);
    clock.advance(ms);
  });
  for (let i = 0; i < 5; i++) {
    await assert.rejects(Vault.unseal(layout, passphrase('wrong guess'), clock, throttle), (e) =>
      isWardenError(e, 'VAULT_BAD_PASSPHRASE'),
    );
  }
  // Three attempts run free; the 4th waits 1 s, the 5th 2 s.
  assert.deepEqual(slept, [1000, 2000]);
  assert.equal(throttle.read().failures, 5);
  // Time that already passed since the last failure counts against the wait.
  clock.advance(3000);
  const { failedAttempts } = await Vault.unseal(layout, passphrase(), clock, throttle);
  assert.deepEqual(slept, [1000, 2000, 1000]);
  assert.equal(failedAttempts, 5);
  assert.equal(existsSync(layout.unsealThrottle), false);
  // A garbage throttle file is treated as no failures, never as a reason to crash.
  writeFileSync(layout.unsealThrottle, '{"failures": "lots"}');
  assert.equal(throttle.read().failures, 0);
  assert.ok(readFileSync(layout.unsealThrottle, 'utf8').length > 0);
});
