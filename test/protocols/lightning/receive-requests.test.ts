/**
 * The parsers of lightning.make_invoice, lookup_invoice, balance and keysend under hostile input
 * (fast-check): anything at all, and valid bodies with one field replaced by anything. Out comes a
 * request whose every field is within its bounds, or a WardenError with a stable code; never
 * another error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { isWardenError } from '../../../src/core/errors.ts';
import { parseLightningBalanceRequest } from '../../../src/protocols/lightning/balance.ts';
import { MAX_AMOUNT_MSAT } from '../../../src/protocols/lightning/bolt11.ts';
import {
  MAX_DESCRIPTION_BYTES,
  MAX_INVOICE_EXPIRY_SECONDS,
} from '../../../src/protocols/lightning/invoice/limits.ts';
import {
  parseLookupInvoiceRequest,
  parseMakeInvoiceRequest,
} from '../../../src/protocols/lightning/invoice/request.ts';
import { parseKeysendRequest } from '../../../src/protocols/lightning/keysend/request.ts';

const NODE = Buffer.from(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)).toString('hex');
const CODES = new Set(['INVALID_REQUEST', 'INVALID_AMOUNT', 'INVALID_ADDRESS']);

/** A valid body with one field replaced by anything (or removed), or an unknown field added. */
function mutated(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const fields = [...Object.keys(valid), 'extra'];
  return fc
    .tuple(fc.constantFrom(...fields), fc.oneof(fc.anything(), fc.constant(undefined)))
    .map(([field, value]) => {
      const body: Record<string, unknown> = { ...valid };
      if (value === undefined) delete body[field];
      else body[field] = value;
      return body;
    });
}

function outcome<T>(parse: () => T): T | null {
  try {
    return parse();
  } catch (err) {
    assert.ok(isWardenError(err), `not a WardenError: ${String(err)}`);
    assert.ok(CODES.has(err.code), err.code);
    return null;
  }
}

const hostile = (valid: Record<string, unknown>) => fc.oneof(fc.anything(), mutated(valid));

test('make_invoice: a positive amount, a description BOLT 11 holds, an expiry within a day, or a stable code', () => {
  fc.assert(
    fc.property(hostile({ amount_msat: '21000', description: 'x', expiry_seconds: 60 }), (body) => {
      const p = outcome(() => parseMakeInvoiceRequest(body));
      if (!p) return;
      assert.ok(p.amountMsat > 0n && p.amountMsat <= MAX_AMOUNT_MSAT);
      assert.ok(Buffer.byteLength(p.description, 'utf8') <= MAX_DESCRIPTION_BYTES);
      assert.ok(Number.isSafeInteger(p.expirySeconds) && p.expirySeconds >= 1);
      assert.ok(p.expirySeconds <= MAX_INVOICE_EXPIRY_SECONDS);
    }),
    { numRuns: 2_000 },
  );
});

test('lookup_invoice: 64 lower-case hex digits, or a stable code', () => {
  fc.assert(
    fc.property(hostile({ payment_hash: 'ab'.repeat(32), idempotencyKey: 'k' }), (body) => {
      const p = outcome(() => parseLookupInvoiceRequest(body));
      if (p) assert.match(p.paymentHash, /^[0-9a-f]{64}$/);
    }),
    { numRuns: 2_000 },
  );
});

test('balance: nothing but an idempotency key, or a stable code', () => {
  fc.assert(
    fc.property(hostile({ idempotencyKey: 'k' }), (body) => {
      const p = outcome(() => parseLightningBalanceRequest(body));
      if (p) assert.deepEqual(Object.keys(p), ['idempotencyKey']);
    }),
    { numRuns: 1_000 },
  );
});

test('keysend: a node id on the curve, a positive amount, a fee limit in sat, or a stable code', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        hostile({ destination: NODE, amount_msat: '1000', fee_limit_sat: '10' }),
        // Node ids one character off: most are not on the curve, none may pass unless it is.
        fc
          .tuple(fc.nat(65), fc.constantFrom(...'0123456789abcdefABCDEF'))
          .map(([i, c]) => ({ destination: NODE.slice(0, i) + c + NODE.slice(i + 1), amount_msat: '1000' })),
      ),
      (body) => {
        const p = outcome(() => parseKeysendRequest(body));
        if (!p) return;
        assert.match(p.destination, /^0[23][0-9a-f]{64}$/);
        assert.doesNotThrow(() => secp256k1.Point.fromHex(p.destination));
        assert.ok(p.amountMsat > 0n && p.amountMsat <= MAX_AMOUNT_MSAT);
        assert.ok(p.feeLimitSat === null || p.feeLimitSat >= 0n);
      },
    ),
    { numRuns: 2_000 },
  );
});

test('keysend: a destination off the curve is INVALID_ADDRESS (x = 0 has no point on secp256k1)', () => {
  assert.throws(
    () => parseKeysendRequest({ destination: `02${'00'.repeat(32)}`, amount_msat: '1000' }),
    (err) => isWardenError(err) && err.code === 'INVALID_ADDRESS',
  );
});
