import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { schnorr } from '@noble/curves/secp256k1.js';
import { isWardenError } from '../../src/core/errors.ts';
import { SchnorrThread } from '../../src/keys/schnorr-thread.ts';

const faulty = (fault: string) =>
  new URL(`./fixtures/faulty-schnorr-worker.ts?fault=${fault}`, import.meta.url);
const signingFailed = (err: unknown) => isWardenError(err, 'SIGNING_FAILED');

function keyAndDigest() {
  const secret = schnorr.utils.randomSecretKey();
  return { secret, publicKey: schnorr.getPublicKey(secret), digest: new Uint8Array(randomBytes(32)) };
}

test('signatures from the thread verify with noble, for jobs asked together and one at a time', async () => {
  const thread = new SchnorrThread();
  try {
    const jobs = Array.from({ length: 100 }, keyAndDigest);
    const together = await Promise.all(jobs.map((j) => thread.sign(j.digest, j.secret)));
    together.forEach((sig, i) => {
      assert.equal(sig.length, 64);
      assert.equal(schnorr.verify(sig, jobs[i]!.digest, jobs[i]!.publicKey), true, `job ${i}`);
    });
    for (const j of jobs.slice(0, 5))
      assert.equal(schnorr.verify(await thread.sign(j.digest, j.secret), j.digest, j.publicKey), true);
    // The caller's own buffers are neither moved nor changed: a copy of each went to the worker.
    const j = jobs[0]!;
    const before = Uint8Array.from(j.secret);
    await thread.sign(j.digest, j.secret);
    assert.deepEqual(j.secret, before);
    assert.equal(j.digest.length, 32);
  } finally {
    await thread.close();
  }
});

test('a job of the wrong size is INVALID_ARGUMENT, and nothing is sent', async () => {
  const thread = new SchnorrThread({ entry: faulty('exit') });
  const { secret, digest } = keyAndDigest();
  await assert.rejects(thread.sign(digest.subarray(0, 31), secret), (e) =>
    isWardenError(e, 'INVALID_ARGUMENT'),
  );
  await assert.rejects(thread.sign(digest, secret.subarray(0, 16)), (e) =>
    isWardenError(e, 'INVALID_ARGUMENT'),
  );
  await thread.close();
});

test('a worker that exits, stays silent, refuses or answers nonsense fails its jobs with SIGNING_FAILED', async () => {
  for (const [fault, failure] of [
    ['exit', true],
    ['silent', true],
    ['nonsense', true],
    ['short', true],
    ['refuse', false],
  ] as const) {
    const told: string[] = [];
    const thread = new SchnorrThread({ entry: faulty(fault), timeoutMs: 300, log: (m) => told.push(m) });
    try {
      const jobs = Array.from({ length: 10 }, keyAndDigest);
      const settled = await Promise.allSettled(jobs.map((j) => thread.sign(j.digest, j.secret)));
      for (const s of settled) {
        assert.equal(s.status, 'rejected', fault);
        assert.ok(
          signingFailed((s as PromiseRejectedResult).reason),
          `${fault}: ${(s as PromiseRejectedResult).reason}`,
        );
      }
      // A worker that failed is told and leaves the thread unhealthy; jobs it refused do not.
      assert.equal(thread.healthy, !failure, fault);
      assert.equal(told.length > 0, failure, `${fault}: ${told.join('; ')}`);
    } finally {
      await thread.close();
    }
  }
});

test('after its worker died, the thread starts a new one at the next job', async () => {
  const thread = new SchnorrThread({ entry: faulty('exit-on-ff') });
  try {
    const { secret, digest, publicKey } = keyAndDigest();
    digest[0] = 0x01;
    assert.equal(schnorr.verify(await thread.sign(digest, secret), digest, publicKey), true);
    const fatal = Uint8Array.from(digest);
    fatal[0] = 0xff;
    await assert.rejects(thread.sign(fatal, secret), signingFailed);
    assert.equal(thread.healthy, false);
    // Not left waiting for a dead worker: a new one signs.
    assert.equal(schnorr.verify(await thread.sign(digest, secret), digest, publicKey), true);
  } finally {
    await thread.close();
  }
});

test('close stops a worker with a job in it: the job fails, the thread is still healthy and signs again', async () => {
  const thread = new SchnorrThread();
  try {
    const { secret, digest, publicKey } = keyAndDigest();
    const first = assert.rejects(thread.sign(digest, secret), signingFailed);
    await thread.close();
    await first;
    assert.equal(thread.healthy, true);
    assert.equal(schnorr.verify(await thread.sign(digest, secret), digest, publicKey), true);
  } finally {
    await thread.close();
  }
});

test('an idle thread does not hold the process open', async () => {
  const module = new URL('../../src/keys/schnorr-thread.ts', import.meta.url).href;
  const script = `const { SchnorrThread } = await import(${JSON.stringify(module)});
    const sig = await new SchnorrThread().sign(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    console.log(sig.length);`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), '64', 'signed, then exited on its own');
});
