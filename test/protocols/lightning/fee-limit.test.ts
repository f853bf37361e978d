import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { feeLimitSat, satCeil } from '../../../src/protocols/lightning/pay/fee-limit.ts';

test('msat round up to the sat: never under what left', () => {
  assert.deepEqual([0n, 1n, 999n, 1000n, 1001n, 1500n].map(satCeil), [0n, 1n, 1n, 1n, 2n, 2n]);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n }), (msat) => {
      const sat = satCeil(msat);
      assert.ok(sat * 1000n >= msat && (sat - 1n) * 1000n < msat);
    }),
  );
});

test('the default fee limit: 1 % of the amount rounded up, at least 10 sat; a given one as given', () => {
  assert.equal(feeLimitSat(1_000n, null), 10n);
  assert.equal(feeLimitSat(1_000_000n, null), 10n);
  assert.equal(feeLimitSat(1_000_000_000n, null), 10_000n);
  assert.equal(feeLimitSat(50_000_500n, null), 501n);
  assert.equal(feeLimitSat(1_000_000_000n, 0n), 0n);
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: 2n ** 60n }), (msat) => {
      const fee = feeLimitSat(msat, null);
      assert.ok(fee >= 10n && fee * 1000n * 100n >= msat);
    }),
  );
});
