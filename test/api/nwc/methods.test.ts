/**
 * The NIP-47 parameters a client sends are hostile: every method either builds a body for its
 * operation (amounts as decimal msat strings, the event id as idempotency key) or refuses with a
 * NIP-47 error, whatever it is given (fast-check), and the error mapping names only NIP-47 codes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Nip47Error, nip47CodeOf } from '../../../src/api/nwc/errors.ts';
import { METHODS } from '../../../src/api/nwc/methods.ts';
import { connectionSpec } from '../../../src/api/nwc/spec.ts';
import { ERROR_CODES } from '../../../src/core/errors.ts';

const NIP47_CODES = new Set([
  'RATE_LIMITED',
  'NOT_IMPLEMENTED',
  'INSUFFICIENT_BALANCE',
  'QUOTA_EXCEEDED',
  'RESTRICTED',
  'UNAUTHORIZED',
  'INTERNAL',
  'OTHER',
  'PAYMENT_FAILED',
  'NOT_FOUND',
  'UNSUPPORTED_ENCRYPTION',
]);
const EVENT_ID = 'a'.repeat(64);

describe('NWC methods and errors', () => {
  test('any params: a body of strings and numbers, or a Nip47Error with a NIP-47 code', () => {
    const params = fc.dictionary(
      fc.constantFrom(
        'invoice',
        'amount',
        'pubkey',
        'preimage',
        'tlv_records',
        'description',
        'expiry',
        'payment_hash',
        'description_hash',
        'x',
      ),
      fc.oneof(
        fc.anything(),
        fc.integer(),
        fc.double(),
        fc.string(),
        fc.stringMatching(/^0[23][0-9a-f]{64}$|^[0-9a-f]{64}$/),
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(METHODS)), params, (name, p) => {
        const m = METHODS[name]!;
        if (m.kind === 'local') return;
        try {
          const body = m.body(p, EVENT_ID);
          for (const [k, v] of Object.entries(body)) {
            assert.ok(typeof v === 'string' || typeof v === 'number', `${name}.${k}`);
            if (k === 'amount_msat') assert.match(String(v), /^(0|[1-9][0-9]*)$/);
          }
          if (m.pays) assert.equal(body.idempotencyKey, `nwc:${EVENT_ID}`);
        } catch (err) {
          assert.ok(err instanceof Nip47Error, String(err));
          assert.ok(NIP47_CODES.has(err.code));
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('amounts are whole msat: fractions, negatives, unsafe integers and strings are refused', () => {
    const pay = METHODS.pay_invoice!;
    assert.ok(pay.kind === 'operation');
    for (const amount of [1.5, -1, 2 ** 53, '1000', Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => pay.body({ invoice: 'lnbcrt1', amount }, EVENT_ID), Nip47Error, String(amount));
    assert.equal(pay.body({ invoice: 'lnbcrt1', amount: 21_000 }, EVENT_ID).amount_msat, '21000');
  });

  test('every Warden code maps to a NIP-47 code; the budget is QUOTA_EXCEEDED, a refusal RESTRICTED', () => {
    for (const code of ERROR_CODES) assert.ok(NIP47_CODES.has(nip47CodeOf(code, 'pay_invoice')), code);
    assert.equal(nip47CodeOf('LIMIT_EXCEEDED', 'pay_invoice'), 'QUOTA_EXCEEDED');
    assert.equal(nip47CodeOf('POLICY_DENIED', 'pay_invoice'), 'RESTRICTED');
    assert.equal(nip47CodeOf('NOT_FOUND', 'lookup_invoice'), 'NOT_FOUND');
    assert.equal(nip47CodeOf('NOT_FOUND', 'pay_invoice'), 'NOT_IMPLEMENTED');
  });

  test('connect specs: budgets, methods, waits and labels checked; NIP-04 only when asked', () => {
    const base = {
      identity: 'bot',
      label: 'x',
      methods: 'pay_invoice',
      budget: '10000sat/day',
      relays: ['wss://r.example'],
    };
    assert.deepEqual(connectionSpec(base).budget, { asset: 'btc', maxValue: 10_000n, window: 'day' });
    assert.deepEqual(connectionSpec(base).encryptions, ['nip44_v2']);
    assert.deepEqual(connectionSpec({ ...base, nip04: true }).encryptions, ['nip44_v2', 'nip04']);
    assert.equal(connectionSpec({ ...base, budget: 'none' }).budget, null);
    assert.equal(connectionSpec({ ...base, budget: '5sat/24h' }).budget?.window, '24h');
    for (const budget of ['0sat/day', '10sat', '10 sat/day', '1.5sat/day', '10sat/year', '10msat/day'])
      assert.throws(() => connectionSpec({ ...base, budget }), /USAGE|--budget/, budget);
    assert.throws(() => connectionSpec({ ...base, methods: ' , ' }), /at least one/);
    assert.throws(() => connectionSpec({ ...base, label: 'é'.repeat(3) }), /label/);
    assert.throws(() => connectionSpec({ ...base, relays: [] }), /no relay/);
    assert.throws(() => connectionSpec({ ...base, holdWaitSeconds: 51 }), /hold-wait/);
  });
});
