import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import argon2 from 'argon2';
import { utf8 } from '../../src/core/bytes.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { openContainer } from '../../src/keys/container.ts';
import { DEFAULT_KDF, deriveKeys, KDF_BOUNDS, kdfParamsWithinBounds } from '../../src/keys/kdf.ts';
import { Vault } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

const clock = () => fixedClock(new Date('2026-01-01T00:00:00Z'));
type Params = { memoryKiB: number; iterations: number; parallelism: number };

test('DEFAULT_KDF is 64 MiB, 3 passes, 1 lane (argon2id is fixed by the format)', () => {
  assert.deepEqual({ ...DEFAULT_KDF }, { memoryKiB: 65_536, iterations: 3, parallelism: 1 });
});

test('a vault created with the defaults writes and uses exactly those parameters', async () => {
  const layout = tempHome('kdf');
  const vault = await Vault.create(layout, passphrase(), clock());
  vault.setAuditSink(async () => {});
  await vault.commitNew('vault.init');
  const file = JSON.parse(readFileSync(layout.keystore, 'utf8'));
  assert.deepEqual(Object.keys(file.kdf).sort(), ['alg', 'iterations', 'memoryKiB', 'parallelism', 'salt']);
  assert.equal(file.kdf.alg, 'argon2id');
  assert.equal(file.kdf.memoryKiB, 65_536);
  assert.equal(file.kdf.iterations, 3);
  assert.equal(file.kdf.parallelism, 1);
  const salt = new Uint8Array(Buffer.from(file.kdf.salt, 'base64'));
  assert.equal(salt.length, 16);
  assert.deepEqual(vault.kdf, { memoryKiB: 65_536, iterations: 3, parallelism: 1 });
  // The header is truthful: the verifier in the file is the one argon2id gives with these very
  // parameters, computed here without Warden's code (a vault that wrote 64 MiB, 3 passes but derived
  // with other settings would not match). One real 64 MiB run.
  const master = await argon2.hash(Buffer.from(passphrase()), {
    type: argon2.argon2id,
    memoryCost: 65_536,
    timeCost: 3,
    parallelism: 1,
    salt: Buffer.from(salt),
    hashLength: 32,
    raw: true,
  });
  const verifier = hkdf(sha256, master, undefined, utf8('warden/keystore/verifier/v1'), 32);
  assert.equal(Buffer.from(verifier).toString('base64'), file.verifier);
});

test('the bounds on parameters read from a file (they cap what a hostile header can make an unseal cost)', () => {
  assert.deepEqual(KDF_BOUNDS, {
    memoryKiB: { min: 8 * 1024, max: 1024 * 1024 },
    iterations: { min: 1, max: 16 },
    parallelism: { min: 1, max: 16 },
  });
});

test('kdfParamsWithinBounds accepts the defaults, the test settings and every bound itself', () => {
  assert.equal(kdfParamsWithinBounds(DEFAULT_KDF), true);
  assert.equal(kdfParamsWithinBounds(TEST_KDF), true);
  const low = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };
  const high = { memoryKiB: 1024 * 1024, iterations: 16, parallelism: 16 };
  assert.equal(kdfParamsWithinBounds(low), true);
  assert.equal(kdfParamsWithinBounds(high), true);
});

test('kdfParamsWithinBounds refuses any parameter out of range or not a safe integer', () => {
  const base: Params = { ...TEST_KDF };
  const bad: Record<keyof Params, unknown[]> = {
    memoryKiB: [8 * 1024 - 1, 1024 * 1024 + 1, 0, -1, 2 ** 40, 8192.5],
    iterations: [0, 17, -1, 1.5],
    parallelism: [0, 17, -1, 2.5],
  };
  const notIntegers = [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '8192', null, undefined, {}, [8192]];
  for (const key of Object.keys(bad) as (keyof Params)[]) {
    for (const value of [...bad[key], ...notIntegers]) {
      const params = { ...base, [key]: value } as Params;
      assert.equal(kdfParamsWithinBounds(params), false, `${key} = ${String(value)}`);
    }
  }
});

test('deriveKeys and Vault.create refuse out-of-range parameters before deriving anything', async () => {
  const salt = new Uint8Array(16);
  // 2^40 KiB would be a 1 PiB allocation: refused up front, not attempted.
  await assert.rejects(
    deriveKeys(passphrase(), { alg: 'argon2id', ...TEST_KDF, memoryKiB: 2 ** 40, salt }),
    (e) => isWardenError(e, 'INVALID_ARGUMENT'),
  );
  await assert.rejects(
    Vault.create(tempHome('kdf'), passphrase(), clock(), { ...TEST_KDF, memoryKiB: 1024 }),
    (e) => isWardenError(e, 'INVALID_ARGUMENT'),
  );
});

test('a keystore whose header carries out-of-range parameters is refused as KEYSTORE_CORRUPT', async () => {
  const layout = tempHome('kdf');
  const vault = await Vault.create(layout, passphrase(), clock(), TEST_KDF);
  vault.setAuditSink(async () => {});
  await vault.commitNew('vault.init');
  const file = JSON.parse(readFileSync(layout.keystore, 'utf8'));
  const cases: [keyof Params, number][] = [
    ['memoryKiB', KDF_BOUNDS.memoryKiB.max + 1],
    ['memoryKiB', KDF_BOUNDS.memoryKiB.min - 1],
    ['iterations', KDF_BOUNDS.iterations.max + 1],
    ['iterations', 0],
    ['parallelism', KDF_BOUNDS.parallelism.max + 1],
    ['parallelism', 0],
  ];
  for (const [key, value] of cases) {
    const bytes = Buffer.from(JSON.stringify({ ...file, kdf: { ...file.kdf, [key]: value } }));
    await assert.rejects(
      openContainer(bytes, passphrase(), 'warden-keystore'),
      (e) => isWardenError(e, 'KEYSTORE_CORRUPT'),
      `${key} = ${value}`,
    );
  }
});
