/**
 * Warden's Core Lightning REST client (src/protocols/lightning/backend/cln-rest.ts) against the
 * CLN REST front (test/helpers/cln-rest-front.ts, CLN's schemas) over real LDK nodes A–B–C on a
 * bcoin regtest chain: the payments, fees, failures and preimages are real; only the REST layer
 * is the front's, not lightningd. Then the front lies (fault injection): no lie becomes a
 * paid-looking result.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { WardenError } from '../../../src/core/errors.ts';
import type { LightningBackend, PaymentState } from '../../../src/protocols/lightning/backend/backend.ts';
import { createClnRestBackend } from '../../../src/protocols/lightning/backend/cln-rest.ts';
import { type ClnMethod, type FaultAnswer, startClnFront } from '../../helpers/cln-rest-front.ts';
import { waitFor } from '../../helpers/ldk-node.ts';
import { hexOf } from '../../helpers/ldk-peer.ts';
import {
  A_B_C,
  B_TO_A,
  clientAt,
  invoiceOf,
  newRune,
  rejects,
  startClnFrontOver,
  startNodesABC,
  withoutHash,
} from '../../helpers/lightning-setup.ts';
import { freePort } from '../../helpers/peer.ts';
import { loadClnSchemas, requestProblems } from './cln-rest/cln-shapes.ts';

const { ln, A, B, C } = await startNodesABC([...A_B_C, B_TO_A]);
const { rune, front } = await startClnFrontOver(ln, A);
const clientWith = (r: Uint8Array, url = front.url): LightningBackend =>
  createClnRestBackend({ ...clientAt(url), rune: r, retryForSeconds: 30 });
const cln = clientWith(rune);
const PAY = { feeLimitSat: 10n, timeoutSeconds: 30 };
/** What track is told the payment may have cost in fees: lnd and CLN name what they paid, so it is not used. */
const FEE_LIMIT_MSAT = PAY.feeLimitSat * 1000n;

const lastParams = (method: ClnMethod) => front.requests.filter((r) => r.method === method).at(-1)!.params;

test('getinfo: the node behind the front, on regtest, synced', async () => {
  const info = await cln.info();
  assert.deepEqual([info.nodeId, info.network, info.syncedToChain], [A.idHex, 'regtest', true]);
  assert.equal(info.blockHeight, ln.bitcoin.height());
});

test('a real one-hop payment: succeeded with the preimage, the balance down by exactly the amount; maxfee and retry_for sent', async () => {
  const before = await cln.balance();
  const paid = await cln.pay(invoiceOf(B, 21_000_000n).bolt11, PAY);
  assert.ok(
    paid.status === 'succeeded',
    JSON.stringify(withoutHash(paid), (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
  );
  assert.deepEqual([paid.amountMsat, paid.feeMsat], [21_000_000n, 0n]);
  assert.equal(B.claimed.get(paid.paymentHash), 21_000_000n);
  const after = await cln.balance();
  assert.equal(before.localMsat - after.localMsat, 21_000_000n);
  const sent = lastParams('pay');
  assert.deepEqual([sent.maxfee, sent.retry_for, 'amount_msat' in sent], [10_000, 30, false]);
});

test('a real two-hop payment: the routing fee reported is exactly what B earned, and within the limit sent', async () => {
  const earned = B.forwardedFeesMsat;
  const before = await cln.balance();
  const paid = await cln.pay(invoiceOf(C, 50_000_000n).bolt11, { feeLimitSat: 100n, timeoutSeconds: 30 });
  assert.ok(paid.status === 'succeeded');
  assert.ok(paid.feeMsat > 0n);
  assert.equal(paid.feeMsat, B.forwardedFeesMsat - earned);
  assert.equal(C.claimed.get(paid.paymentHash), 50_000_000n);
  assert.equal(before.localMsat - (await cln.balance()).localMsat, 50_000_000n + paid.feeMsat);
});

test('an invoice without an amount is paid the amount given (amount_msat), and only then', async () => {
  const { bolt11, hash } = invoiceOf(B, null);
  await rejects(cln.pay(bolt11, PAY), 'INVALID_AMOUNT');
  const paid = await cln.pay(bolt11, { ...PAY, amountMsat: 12_345n });
  assert.equal(paid.status, 'succeeded');
  assert.equal(lastParams('pay').amount_msat, 12_345);
  assert.equal(B.claimed.get(hash), 12_345n);
});

test('a fee limit of 0 sat leaves no route two hops away: failed (no_route), nothing paid', async () => {
  const state = await cln.pay(invoiceOf(C, 1_000_000n).bolt11, { feeLimitSat: 0n, timeoutSeconds: 30 });
  assert.deepEqual(withoutHash(state), { status: 'failed', reason: 'no_route' });
  assert.equal(C.claimed.has(state.paymentHash), false);
});

test('a failed route is reported as failed (no_route), not unknown', async () => {
  const state = await cln.pay(invoiceOf(C, 5_000_000_000n).bolt11, PAY);
  assert.deepEqual(withoutHash(state), { status: 'failed', reason: 'no_route' });
});

test('the same invoice twice: the second is refused (LIGHTNING_PAYMENT_EXISTS, already_paid) although CLN’s pay would answer it complete again', async () => {
  const { bolt11 } = invoiceOf(B, 3_000_000n);
  assert.equal((await cln.pay(bolt11, PAY)).status, 'succeeded');
  const pays = front.requests.filter((r) => r.method === 'pay').length;
  const before = await cln.balance();
  const err = await rejects(cln.pay(bolt11, PAY), 'LIGHTNING_PAYMENT_EXISTS');
  assert.equal(err.details.reason, 'already_paid');
  assert.equal(front.requests.filter((r) => r.method === 'pay').length, pays, 'pay was not called again');
  assert.equal((await cln.balance()).localMsat, before.localMsat);
});

test('a stuck payment: in flight while the payee holds it, followed by its hash (listpays) to its end', async () => {
  C.holdIncoming = true;
  try {
    const { bolt11 } = invoiceOf(C, 2_000_000n);
    const first = await cln.pay(bolt11, { ...PAY, waitMs: 1_000 });
    assert.equal(first.status, 'in_flight');
    const hash = first.paymentHash;
    assert.equal((await cln.track(hash, 500, FEE_LIMIT_MSAT))?.status, 'in_flight');
    assert.equal(
      (await rejects(cln.pay(bolt11, PAY), 'LIGHTNING_PAYMENT_EXISTS')).details.reason,
      'in_flight',
    );
    await waitFor(() => C.isHeld(hash), 5_000, 'C holds the payment');
    assert.ok(C.release(hash));
    const end = await cln.track(hash, 10_000, FEE_LIMIT_MSAT);
    assert.ok(end?.status === 'succeeded');
    assert.equal(end.feeMsat, 1_000n);

    const refused = await cln.pay(invoiceOf(C, 2_000_000n).bolt11, { ...PAY, waitMs: 1_000 });
    assert.equal(refused.status, 'in_flight');
    await waitFor(() => C.isHeld(refused.paymentHash), 5_000, 'C holds the second payment');
    assert.ok(C.failBack(refused.paymentHash));
    // listpays says failed but not why, and pay may still be retrying (retry_for): in flight until it is over.
    const followed = await cln.track(refused.paymentHash, 1_000, FEE_LIMIT_MSAT);
    assert.equal(followed?.status, 'in_flight');
  } finally {
    C.holdIncoming = false;
  }
});

test('the answer lost mid-payment: pay’s connection is cut, the payment is followed by its hash to its end', async () => {
  const earned = B.forwardedFeesMsat;
  const lists = front.requests.filter((r) => r.method === 'listpays').length;
  front.cutPays = true;
  try {
    const paid = await cln.pay(invoiceOf(C, 3_000_000n).bolt11, PAY);
    assert.ok(paid.status === 'succeeded');
    assert.equal(paid.feeMsat, B.forwardedFeesMsat - earned);
  } finally {
    front.cutPays = false;
  }
  assert.ok(front.requests.filter((r) => r.method === 'listpays').length > lists + 1, 'it was followed');
});

test('a backend that is not there: BACKEND_UNREACHABLE with sent: false, so nothing was paid', async () => {
  const url = `http://127.0.0.1:${await freePort()}/`;
  const err = await rejects(
    clientWith(rune, url).pay(invoiceOf(B, 1_000n).bolt11, PAY),
    'BACKEND_UNREACHABLE',
  );
  assert.equal(err.details.sent, false);
});

test('tracking a hash CLN never saw: null', async () => {
  assert.equal(await cln.track('00'.repeat(32), 1_000, FEE_LIMIT_MSAT), null);
});

test('a wrong rune, a rune that is not one, a rune without the method: LIGHTNING_BACKEND_AUTH, nothing paid, no rune in any error', async () => {
  const wrong = newRune();
  const stranger = clientWith(wrong);
  const errors = [await rejects(stranger.info(), 'LIGHTNING_BACKEND_AUTH')];
  const unpaid = invoiceOf(B, 1_000_000n);
  errors.push(await rejects(stranger.pay(unpaid.bolt11, PAY), 'LIGHTNING_BACKEND_AUTH'));
  errors.push(
    await rejects(
      clientWith(new TextEncoder().encode('not a rune\r\nX: y')).info(),
      'LIGHTNING_BACKEND_AUTH',
    ),
  );
  const narrow = await startClnFront({ node: A, rune, chain: { height: () => 0 }, allowed: ['getinfo'] });
  assert.equal((await clientWith(rune, narrow.url).info()).nodeId, A.idHex);
  errors.push(await rejects(clientWith(rune, narrow.url).pay(unpaid.bolt11, PAY), 'LIGHTNING_BACKEND_AUTH'));
  for (const e of errors) {
    const shown = `${e.message} ${JSON.stringify(e.details)} ${e.stack}`;
    for (const r of [wrong, rune]) assert.ok(!shown.includes(Buffer.from(r).toString('utf8')));
  }
  assert.equal(B.claimed.has(unpaid.hash), false);
});

test('decode agrees with Warden’s own; an invoice made by CLN (unique label, private hints) is looked up, settled with its preimage once paid', async () => {
  const decoded = await cln.decode(invoiceOf(C, 7_000n, 'to decode').bolt11);
  assert.deepEqual([decoded.payee, decoded.amountMsat], [C.idHex, 7_000n]);
  const made = await cln.createInvoice({ amountMsat: 5_000n, description: 'to A', expirySeconds: 600 });
  const again = await cln.createInvoice({ amountMsat: 5_000n, description: 'to A', expirySeconds: 600 });
  const [p1, p2] = front.requests
    .filter((r) => r.method === 'invoice')
    .slice(-2)
    .map((r) => r.params);
  assert.notEqual(p1!.label, p2!.label);
  assert.deepEqual([p1!.exposeprivatechannels, p1!.expiry, p1!.amount_msat], [true, 600, 5_000]);
  assert.notEqual(made.paymentHash, again.paymentHash);
  assert.equal(made.invoice.payee, A.idHex);
  assert.ok(made.invoice.routeHints.length > 0, 'route hints for its unannounced channels');
  assert.equal((await cln.lookupInvoice(made.paymentHash))?.state, 'open');
  const outcome = await ln.pay('B', made.bolt11, 10_000n);
  assert.equal(outcome.state, 'succeeded');
  const settled = await cln.lookupInvoice(made.paymentHash);
  assert.ok(settled?.state === 'settled');
  assert.deepEqual(
    [settled.paidMsat, settled.preimage],
    [5_000n, outcome.state === 'succeeded' && outcome.preimage],
  );
  assert.equal(await cln.lookupInvoice('11'.repeat(32)), null);
});

test('channels: the CHANNELD_NORMAL ones, by short channel id, sides adding up', async () => {
  const channels = await cln.channels();
  assert.equal(channels.length, 2);
  for (const ch of channels) {
    assert.match(ch.channelId, /^\d+x\d+x\d+$/);
    assert.equal(ch.peerId, B.idHex);
    assert.ok(ch.active);
    assert.equal(ch.localMsat + ch.remoteMsat, ch.capacityMsat);
  }
});

test('keysend through CLN: LIGHTNING_NOT_SUPPORTED (CLN picks its own preimage), nothing sent', async () => {
  const before = front.requests.length;
  const err = await rejects(
    cln.keysend({
      destination: B.idHex,
      amountMsat: 1_000n,
      preimage: new Uint8Array(32),
      feeLimitSat: 1n,
      timeoutSeconds: 30,
    }),
    'LIGHTNING_NOT_SUPPORTED',
  );
  assert.deepEqual([err.details.backend, err.details.feature], ['cln', 'keysend']);
  assert.equal(front.requests.length, before);
});

// ---- the front lies ----

function withFault<T>(
  method: ClnMethod,
  answer: () => FaultAnswer | null,
  run: () => Promise<T>,
): Promise<T> {
  front.fault = (m) => (m === method ? answer() : null);
  return run().finally(() => {
    front.fault = null;
  });
}

test('hostile answers to pay are OUTCOME_UNKNOWN, never succeeded, even with the real preimage', async () => {
  // Really paid (by A's LDK node, not through Warden): its real preimage is known, so these lies
  // are the hard kind, paid-looking in everything but one field.
  const { bolt11, hash } = invoiceOf(C, 4_000n);
  const real = await ln.pay('A', bolt11, 10_000n);
  assert.ok(real.state === 'succeeded');
  const honest = {
    destination: C.idHex,
    payment_hash: hash,
    created_at: 1.5,
    parts: 1,
    amount_msat: 4_000,
    amount_sent_msat: 4_000,
    payment_preimage: real.preimage,
    status: 'complete',
  };
  const body = (result: unknown) => () => ({ status: 201, body: JSON.stringify(result) });
  const control = await withFault('pay', body(honest), () => cln.pay(bolt11, { ...PAY, waitMs: 300 }));
  assert.equal(
    control.status,
    'succeeded',
    'the honest answer is believed: the checks below are not vacuous',
  );
  const lies = [
    { ...honest, payment_preimage: hexOf(randomBytes(32)) },
    { ...honest, payment_preimage: '00'.repeat(32) },
    { ...honest, amount_sent_msat: 14_001 },
    { ...honest, amount_msat: 5_000, amount_sent_msat: 5_000 },
    { ...honest, amount_msat: '4000' },
    { ...honest, amount_msat: 4_000.5 },
    { ...honest, amount_sent_msat: 3_999 },
    { ...honest, amount_msat: 2 ** 60, amount_sent_msat: 2 ** 60 },
    { ...honest, status: 'pending', payment_preimage: real.preimage },
    { ...honest, status: 'paid' },
    { ...honest, payment_hash: hexOf(randomBytes(32)) },
  ];
  for (const lie of lies) {
    const err = await withFault('pay', body(lie), () =>
      rejects(cln.pay(bolt11, { ...PAY, waitMs: 300 }), 'OUTCOME_UNKNOWN'),
    );
    assert.equal(err.details.backendCode, 'BACKEND_REJECTED', JSON.stringify(lie));
  }
});

test('listpays saying every attempt failed is a failure only once pay can no longer retry (retry_for and a grace after the newest attempt)', async () => {
  const { hash } = invoiceOf(C, 1_000n);
  const failedAt = (createdAt: number) => () => ({
    status: 201,
    body: JSON.stringify({
      pays: [
        {
          created_index: 1,
          payment_hash: hash,
          status: 'failed',
          created_at: createdAt,
          amount_sent_msat: 1_000,
        },
      ],
    }),
  });
  const now = Math.floor(Date.now() / 1000);
  const recent = await withFault('listpays', failedAt(now - 5), () => cln.track(hash, 300, FEE_LIMIT_MSAT));
  assert.equal(recent?.status, 'in_flight');
  const old = await withFault('listpays', failedAt(now - 3_600), () => cln.track(hash, 300, FEE_LIMIT_MSAT));
  assert.deepEqual(old && withoutHash(old), { status: 'failed', reason: 'error' });
});

test('garbled reads are BACKEND_REJECTED (malformed) with a clear message', async () => {
  for (const body of [
    '{',
    '[]',
    '{"id": 1}',
    '{"channels": [{"state": "CHANNELD_NORMAL", "to_us_msat": 1.5}]}',
  ]) {
    for (const [method, call] of [
      ['getinfo', () => cln.info()],
      ['listpeerchannels', () => cln.balance()],
    ] as const) {
      const err = await withFault(
        method,
        () => ({ status: 201, body }),
        () => rejects(call(), 'BACKEND_REJECTED'),
      );
      assert.equal(err.details.reason, 'malformed');
      assert.match(err.message, /Core Lightning's answer to .* is malformed/);
    }
  }
});

test('hostile reads and invoices: a decode that disagrees with Warden’s, an invoice other than the one asked for, a paid invoice whose preimage does not open its hash, an amount JSON cannot carry exactly', async () => {
  const other = invoiceOf(C, 7_000n, 'other');
  const mine = invoiceOf(B, 7_000n, 'mine');
  const decodeOf = (payee: string) => () => ({
    status: 201,
    body: JSON.stringify({
      type: 'bolt11 invoice',
      valid: true,
      payee,
      payment_hash: mine.hash,
      amount_msat: 7_000,
    }),
  });
  const mismatch = await withFault('decode', decodeOf(C.idHex), () =>
    rejects(cln.decode(mine.bolt11), 'BACKEND_REJECTED'),
  );
  assert.equal(mismatch.details.reason, 'mismatch');
  const made = () => ({
    status: 201,
    body: JSON.stringify({ bolt11: other.bolt11, payment_hash: other.hash }),
  });
  const ask = { amountMsat: 7_000n, description: 'other', expirySeconds: 600 };
  const notAsked = await withFault('invoice', made, () =>
    rejects(cln.createInvoice(ask), 'BACKEND_REJECTED'),
  );
  assert.equal(notAsked.details.reason, 'mismatch');
  const paid = (preimage: string, amount: number) => () => ({
    status: 201,
    body: JSON.stringify({
      invoices: [
        {
          label: 'x',
          payment_hash: mine.hash,
          status: 'paid',
          expires_at: 1,
          created_index: 1,
          amount_msat: amount,
          amount_received_msat: amount,
          payment_preimage: preimage,
          pay_index: 1,
          paid_at: 1,
        },
      ],
    }),
  });
  for (const lie of [
    paid(hexOf(randomBytes(32)), 7_000),
    paid('00'.repeat(32), 7_000),
    paid(hexOf(randomBytes(32)), 2 ** 60),
  ]) {
    const err = await withFault('listinvoices', lie, () =>
      rejects(cln.lookupInvoice(mine.hash), 'BACKEND_REJECTED'),
    );
    assert.equal(err.details.reason, 'malformed');
  }
});

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexOf);
const amount = fc.oneof(
  fc.nat(),
  fc.double(),
  fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
  fc.jsonValue(),
);
const hostileBody = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        payment_hash: fc.oneof(fc.constant('HASH'), hex32),
        status: fc.constantFrom('complete', 'pending', 'failed', 'paid', 1),
        payment_preimage: fc.oneof(hex32, fc.jsonValue()),
        amount_msat: amount,
        amount_sent_msat: amount,
        code: fc.constantFrom(200, 201, 203, 205, 206, 209, 210, -1, -32602, 1502),
        message: fc.string(),
      },
      { requiredKeys: [] },
    )
    .map((p) => JSON.stringify(p)),
);

test('fuzzed answers to pay, and to listpays when following a payment (fast-check): a WardenError or an outcome, never succeeded', async () => {
  const { bolt11, hash } = invoiceOf(C, 9_000n);
  // Followed, never paid: no answer can hold a preimage of it.
  const unpaid = invoiceOf(C, 9_000n).hash;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(200, 201, 401, 403, 404, 500),
      hostileBody,
      fc.constantFrom<ClnMethod>('pay', 'listpays'),
      fc.boolean(),
      async (status, raw, method, truncate) => {
        let body = raw.replaceAll('HASH', method === 'pay' ? hash : unpaid);
        if (truncate) body = body.slice(0, Math.floor(body.length / 2));
        let state: PaymentState | null = null;
        try {
          state = await withFault(
            method,
            () => ({ status, body }),
            () =>
              method === 'pay'
                ? cln.pay(bolt11, { ...PAY, waitMs: 200 })
                : cln.track(unpaid, 200, FEE_LIMIT_MSAT),
          );
        } catch (err) {
          assert.ok(err instanceof WardenError, String(err));
          // On a loaded machine the 200 ms wait may be over before pay is sent: nothing left.
          if (err.code === 'BACKEND_UNREACHABLE') return assert.equal(err.details.sent, false);
          assert.ok(
            [
              'OUTCOME_UNKNOWN',
              'BACKEND_REJECTED',
              'LIGHTNING_PAYMENT_EXISTS',
              'LIGHTNING_BACKEND_AUTH',
            ].includes(err.code),
            err.code,
          );
          return;
        }
        assert.notEqual(state?.status, 'succeeded');
      },
    ),
    { numRuns: 200 },
  );
  // Every answer to pay was the fault's: the node was never asked to pay.
  assert.equal(C.claimed.has(hash), false);
});

test('every params object Warden sent is one lightningd reads: checked against the request schemas of CLN', () => {
  const schemas = loadClnSchemas();
  const methods = new Set(front.requests.map((r) => r.method));
  for (const m of [
    'getinfo',
    'listpeerchannels',
    'decode',
    'pay',
    'listpays',
    'invoice',
    'listinvoices',
  ] as const)
    assert.ok(methods.has(m), m);
  for (const { method, params } of front.requests)
    assert.deepEqual(requestProblems(schemas, method, params), [], method);
});
