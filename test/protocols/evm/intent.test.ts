import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWardenError } from '../../../src/core/errors.ts';
import { evmSendIntent, resolveFees, TRANSFER_GAS_LIMIT } from '../../../src/protocols/evm/intent.ts';
import { nextNonce } from '../../../src/protocols/evm/nonce.ts';
import { parseEvmSendRequest } from '../../../src/protocols/evm/request.ts';

const DIGEST = 'ab'.repeat(32);
const request = parseEvmSendRequest({
  chainId: 42161,
  to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  value: '10000000000000000',
});
const fees = { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000n };

test('evmSendIntent builds the normalized Intent of a native send', () => {
  const intent = evmSendIntent('alice', request, fees, DIGEST, 'key-1');
  assert.deepEqual(intent, {
    protocol: 'evm',
    action: 'send',
    identity: 'alice',
    asset: 'evm:42161',
    amount: 10_000_000_000_000_000n,
    destinations: ['0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
    maxFee: 21_000n * 2_000_000_000n,
    payloadDigest: DIGEST,
    idempotencyKey: 'key-1',
    feeAsset: 'evm:42161',
    facets: { chain_id: 42161, contract: null, function: null, max_fee_per_gas: 2_000_000_000n },
    detail: {
      chainId: 42161,
      to: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed',
      maxFeePerGas: '2000000000',
      maxPriorityFeePerGas: '1000000',
      gasLimit: '21000',
    },
  });
  assert.equal(evmSendIntent('alice', request, fees, DIGEST, null).idempotencyKey, null);
});

test('property: maxFee is always gasLimit × maxFeePerGas and amount the value', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 1n, max: 2n ** 200n }),
      fc.bigInt({ min: 1n, max: 2n ** 128n }),
      fc.bigInt({ min: 1n, max: 2n ** 64n }),
      fc.integer({ min: 1, max: 2 ** 40 }),
      (value, maxFeePerGas, chainId, tipDivisor) => {
        const parsed = { ...request, value, chainId: Number(chainId % 2n ** 50n) + 1 };
        const f = { maxFeePerGas, maxPriorityFeePerGas: maxFeePerGas / BigInt(tipDivisor) };
        const intent = evmSendIntent('bob', parsed, f, DIGEST, null);
        assert.equal(intent.maxFee, TRANSFER_GAS_LIMIT * maxFeePerGas);
        assert.equal(intent.amount, value);
        assert.equal(intent.asset, `evm:${parsed.chainId}`);
      },
    ),
  );
});

test('evmSendIntent refuses bad fees and a malformed payload digest', () => {
  for (const bad of [
    { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n },
    { maxFeePerGas: 10n, maxPriorityFeePerGas: 11n },
    { maxFeePerGas: 10n, maxPriorityFeePerGas: -1n },
    { maxFeePerGas: 2n ** 256n, maxPriorityFeePerGas: 0n },
  ]) {
    assert.throws(
      () => evmSendIntent('alice', request, bad, DIGEST, null),
      (e) => isWardenError(e, 'INVALID_AMOUNT'),
    );
  }
  for (const digest of ['', 'AB'.repeat(32), 'ab'.repeat(31), `0x${'ab'.repeat(32)}`]) {
    assert.throws(
      () => evmSendIntent('alice', request, fees, digest, null),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
    );
  }
});

test('resolveFees takes the caller fees first, the estimate otherwise, and never lets the tip pass the cap', () => {
  const estimate = { maxFeePerGas: 3_000n, maxPriorityFeePerGas: 500n };
  assert.deepEqual(resolveFees(request, estimate), estimate);
  assert.deepEqual(resolveFees({ ...request, maxFeePerGas: 10_000n, maxPriorityFeePerGas: 7n }, estimate), {
    maxFeePerGas: 10_000n,
    maxPriorityFeePerGas: 7n,
  });
  // A caller cap below the estimated tip: the tip is lowered to the cap.
  assert.deepEqual(resolveFees({ ...request, maxFeePerGas: 100n }, estimate), {
    maxFeePerGas: 100n,
    maxPriorityFeePerGas: 100n,
  });
  // A caller tip above the estimated cap is an error, not silently changed.
  assert.throws(
    () => resolveFees({ ...request, maxPriorityFeePerGas: 5_000n }, estimate),
    (e) => isWardenError(e, 'INVALID_AMOUNT'),
  );
});

test('nextNonce is the larger of the chain pending count and the local next nonce', () => {
  assert.equal(nextNonce(0, null), 0);
  assert.equal(nextNonce(7, null), 7);
  assert.equal(nextNonce(3, 5), 5); // the node has not seen our last two yet
  assert.equal(nextNonce(9, 5), 9); // the seed sent from elsewhere
  assert.equal(nextNonce(4, 4), 4);
  fc.assert(
    fc.property(fc.nat(), fc.option(fc.nat()), (pending, local) => {
      const n = nextNonce(pending, local);
      assert.ok(n >= pending);
      if (local !== null) assert.ok(n >= local);
      assert.ok(n === pending || n === local);
    }),
  );
});

test('nextNonce refuses negative, fractional and unsafe inputs', () => {
  for (const [pending, local] of [
    [-1, null],
    [1.5, null],
    [Number.NaN, null],
    [2 ** 53, null],
    [0, -1],
    [0, 0.5],
    [0, Number.POSITIVE_INFINITY],
  ] as [number, number | null][]) {
    assert.throws(
      () => nextNonce(pending, local),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
    );
  }
});
