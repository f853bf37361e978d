/**
 * Warden's LND REST client (src/protocols/lightning/backend/lnd-rest.ts) against the LND REST
 * front (test/helpers/lnd-rest-front.ts, lnd's shapes) over real LDK nodes A–B–C on a bcoin
 * regtest chain: the payments, fees, failures and preimages are real; only the REST layer is the
 * front's. Then the front lies (fault injection): no lie becomes a paid-looking result.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import * as ldk from 'lightningdevkit';
import { WardenError } from '../../../src/core/errors.ts';
import type { LightningBackend, PaymentState } from '../../../src/protocols/lightning/backend/backend.ts';
import { MAX_CHANNELS } from '../../../src/protocols/lightning/backend/lnd-channels.ts';
import { createLndRestBackend } from '../../../src/protocols/lightning/backend/lnd-rest.ts';
import { waitFor } from '../../helpers/ldk-node.ts';
import { hexOf } from '../../helpers/ldk-peer.ts';
import {
  A_B_C,
  B_TO_A,
  clientAt,
  invoiceOf,
  rejects,
  startLndFrontOver,
  startNodesABC,
  withoutHash,
} from '../../helpers/lightning-setup.ts';
import type { FaultAnswer, LndRoute } from '../../helpers/lnd-rest-front.ts';
import { freePort } from '../../helpers/peer.ts';
import { loadSwagger, shapeProblems } from './lnd-rest/swagger-shapes.ts';

const { ln, A, B, C } = await startNodesABC([...A_B_C, B_TO_A]);
const { macaroon, front } = await startLndFrontOver(ln, A);
const clientWith = (mac: Uint8Array, url = front.url): LightningBackend =>
  createLndRestBackend({ ...clientAt(url), macaroon: mac });
const lnd = clientWith(macaroon);
const PAY = { feeLimitSat: 10n, timeoutSeconds: 30 };
/** What track is told the payment may have cost in fees: lnd and CLN name what they paid, so it is not used. */
const FEE_LIMIT_MSAT = PAY.feeLimitSat * 1000n;

test(`the Lightning nodes started in ${ln.startup.totalMs} ms (bcoin ${ln.startup.bitcoinMs}, segwit ${ln.startup.segwitMs}, channels ${ln.startup.channelsMs})`, () => {
  assert.ok(ln.startup.totalMs < 30_000);
});

test('getinfo: the node behind the front, on regtest', async () => {
  const info = await lnd.info();
  assert.deepEqual([info.nodeId, info.network, info.syncedToChain], [A.idHex, 'regtest', true]);
  assert.equal(info.blockHeight, ln.bitcoin.height());
});

test('a real one-hop payment: succeeded with the preimage, the balance down by exactly the amount', async () => {
  const before = await lnd.balance();
  const paid = await lnd.pay(invoiceOf(B, 21_000_000n).bolt11, PAY);
  assert.equal(paid.status, 'succeeded');
  assert.ok(paid.status === 'succeeded');
  assert.deepEqual([paid.amountMsat, paid.feeMsat], [21_000_000n, 0n]);
  assert.equal(B.claimed.get(paid.paymentHash), 21_000_000n);
  const after = await lnd.balance();
  assert.equal(before.localMsat - after.localMsat, 21_000_000n);
});

test('a real two-hop payment: the routing fee reported is exactly what B earned, and within the limit sent', async () => {
  const earned = B.forwardedFeesMsat;
  const before = await lnd.balance();
  const paid = await lnd.pay(invoiceOf(C, 50_000_000n).bolt11, { feeLimitSat: 100n, timeoutSeconds: 30 });
  assert.ok(
    paid.status === 'succeeded',
    JSON.stringify(paid, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
  );
  assert.ok(paid.feeMsat > 0n);
  assert.equal(paid.feeMsat, B.forwardedFeesMsat - earned);
  assert.equal(C.claimed.get(paid.paymentHash), 50_000_000n);
  assert.equal(before.localMsat - (await lnd.balance()).localMsat, 50_000_000n + paid.feeMsat);
  const sent = front.requests.filter((r) => r.route === 'send').at(-1)!.body as Record<string, unknown>;
  assert.deepEqual([sent.fee_limit_sat, sent.timeout_seconds], ['100', 30]);
});

test('a fee limit of 0 sat leaves no route two hops away: failed, nothing paid', async () => {
  const state = await lnd.pay(invoiceOf(C, 1_000_000n).bolt11, { feeLimitSat: 0n, timeoutSeconds: 30 });
  assert.deepEqual(withoutHash(state), { status: 'failed', reason: 'no_route' });
  assert.equal(C.claimed.has(state.paymentHash), false);
});

test('a failed route is reported as failed (no_route), not unknown', async () => {
  const state = await lnd.pay(invoiceOf(C, 5_000_000_000n).bolt11, PAY);
  assert.deepEqual(withoutHash(state), { status: 'failed', reason: 'no_route' });
});

test('the same invoice twice: the second is refused (LIGHTNING_PAYMENT_EXISTS, already_paid), nothing paid again', async () => {
  const { bolt11 } = invoiceOf(B, 3_000_000n);
  assert.equal((await lnd.pay(bolt11, PAY)).status, 'succeeded');
  const before = await lnd.balance();
  const err = await rejects(lnd.pay(bolt11, PAY), 'LIGHTNING_PAYMENT_EXISTS');
  assert.equal(err.details.reason, 'already_paid');
  assert.equal((await lnd.balance()).localMsat, before.localMsat);
});

test('a stuck payment: in flight while the payee holds it, followed by its hash to its end', async () => {
  C.holdIncoming = true;
  try {
    const { bolt11 } = invoiceOf(C, 2_000_000n);
    const first = await lnd.pay(bolt11, { ...PAY, waitMs: 1_000 });
    assert.equal(first.status, 'in_flight');
    const hash = first.paymentHash;
    assert.equal((await lnd.track(hash, 500, FEE_LIMIT_MSAT))?.status, 'in_flight');
    await rejects(lnd.pay(bolt11, PAY), 'LIGHTNING_PAYMENT_EXISTS');
    assert.ok(C.release(hash));
    const end = await lnd.track(hash, 10_000, FEE_LIMIT_MSAT);
    assert.equal(end?.status, 'succeeded');
    assert.equal(end?.status === 'succeeded' && end.feeMsat, 1_000n);

    const refused = await lnd.pay(invoiceOf(C, 2_000_000n).bolt11, { ...PAY, waitMs: 1_000 });
    assert.equal(refused.status, 'in_flight');
    await waitFor(() => C.isHeld(refused.paymentHash), 5_000, 'C holds the second payment');
    assert.ok(C.failBack(refused.paymentHash));
    assert.deepEqual(withoutHash((await lnd.track(refused.paymentHash, 10_000, FEE_LIMIT_MSAT))!), {
      status: 'failed',
      reason: 'incorrect_payment_details',
    });
  } finally {
    C.holdIncoming = false;
  }
});

test('the answer lost mid-payment: the stream is cut after its first update, the payment is followed by its hash to its end', async () => {
  const earned = B.forwardedFeesMsat;
  const tracks = front.requests.filter((r) => r.route === 'track').length;
  front.cutSendStreams = true;
  try {
    const paid = await lnd.pay(invoiceOf(C, 3_000_000n).bolt11, PAY);
    assert.ok(paid.status === 'succeeded');
    assert.equal(paid.feeMsat, B.forwardedFeesMsat - earned);
  } finally {
    front.cutSendStreams = false;
  }
  assert.ok(front.requests.filter((r) => r.route === 'track').length > tracks, 'it was tracked');
});

test('a backend that is not there: BACKEND_UNREACHABLE with sent: false, so nothing was paid', async () => {
  const url = `http://127.0.0.1:${await freePort()}/`;
  const err = await rejects(
    clientWith(macaroon, url).pay(invoiceOf(B, 1_000n).bolt11, PAY),
    'BACKEND_UNREACHABLE',
  );
  assert.equal(err.details.sent, false);
});

test('tracking a hash lnd never saw: null', async () => {
  assert.equal(await lnd.track('00'.repeat(32), 1_000, FEE_LIMIT_MSAT), null);
});

test('a wrong macaroon: LIGHTNING_BACKEND_AUTH, for reads and payments, and the macaroon is in no error', async () => {
  const wrong = new Uint8Array(randomBytes(32));
  const stranger = clientWith(wrong);
  const err = await rejects(stranger.info(), 'LIGHTNING_BACKEND_AUTH');
  const unpaid = invoiceOf(B, 1_000_000n);
  const payErr = await rejects(stranger.pay(unpaid.bolt11, PAY), 'LIGHTNING_BACKEND_AUTH');
  for (const e of [err, payErr]) {
    const shown = `${e.message} ${JSON.stringify(e.details)} ${e.stack}`;
    for (const mac of [wrong, macaroon]) {
      assert.ok(!shown.includes(Buffer.from(mac).toString('hex')));
      assert.ok(!shown.includes(Buffer.from(mac).toString('base64')));
    }
  }
  assert.equal(B.claimed.has(unpaid.hash), false);
});

test('decode agrees with Warden’s own; an invoice made by lnd is looked up, settled with its preimage once paid', async () => {
  const decoded = await lnd.decode(invoiceOf(C, 7_000n, 'to decode').bolt11);
  assert.deepEqual([decoded.payee, decoded.amountMsat], [C.idHex, 7_000n]);
  const made = await lnd.createInvoice({ amountMsat: 5_000n, description: 'to A', expirySeconds: 600 });
  assert.equal(made.invoice.payee, A.idHex);
  assert.ok(made.invoice.routeHints.length > 0, 'private: route hints for its unannounced channels');
  assert.equal((await lnd.lookupInvoice(made.paymentHash))?.state, 'open');
  const outcome = await ln.pay('B', made.bolt11, 10_000n);
  assert.equal(outcome.state, 'succeeded');
  const settled = await lnd.lookupInvoice(made.paymentHash);
  assert.ok(settled?.state === 'settled');
  assert.deepEqual(
    [settled.paidMsat, settled.preimage],
    [5_000n, outcome.state === 'succeeded' && outcome.preimage],
  );
  assert.equal(await lnd.lookupInvoice('11'.repeat(32)), null);
});

// ---- the front lies ----

function withFault<T>(
  route: LndRoute,
  answer: (r: LndRoute) => FaultAnswer | null,
  run: () => Promise<T>,
): Promise<T> {
  front.fault = (r) => (r === route ? answer(r) : null);
  return run().finally(() => {
    front.fault = null;
  });
}
const line = (result: unknown) => `${JSON.stringify({ result })}\n`;

test('hostile payment answers are OUTCOME_UNKNOWN, never succeeded, even with the real preimage: a wrong preimage, a fee above the limit, another amount, a float, sat and msat disagreeing, a failure or an update in flight that holds the preimage', async () => {
  // The invoice was really paid (A's LDK node, not through Warden): its real preimage is known,
  // so the lies below are the hard kind, paid-looking in everything but one field.
  const { bolt11, hash } = invoiceOf(C, 4_000n);
  const real = await ln.pay('A', bolt11, 10_000n);
  assert.ok(real.state === 'succeeded');
  const honest = {
    payment_hash: hash,
    status: 'SUCCEEDED',
    payment_preimage: real.preimage,
    value_msat: '4000',
    value_sat: '4',
    fee_msat: '0',
    fee_sat: '0',
    failure_reason: 'FAILURE_REASON_NONE',
  };
  const answer = (result: unknown) => () => ({ status: 200, body: line(result) });
  const control = await withFault('send', answer(honest), () => lnd.pay(bolt11, { ...PAY, waitMs: 300 }));
  assert.equal(
    control.status,
    'succeeded',
    'the honest answer is believed: the checks below are not vacuous',
  );
  const lies = [
    { ...honest, payment_preimage: hexOf(randomBytes(32)) },
    { ...honest, payment_preimage: '00'.repeat(32) },
    { ...honest, fee_msat: '10001', fee_sat: '10' },
    { ...honest, value_msat: '5000', value_sat: '5' },
    { ...honest, value_msat: 4000 },
    { ...honest, fee_msat: '5000', fee_sat: '0' },
    { ...honest, status: 'FAILED', failure_reason: 'FAILURE_REASON_NO_ROUTE' },
    { ...honest, status: 'IN_FLIGHT' },
    { ...honest, status: 'FAILED', payment_preimage: '00'.repeat(32) },
    { ...honest, status: 'PAID' },
    { ...honest, payment_hash: hexOf(randomBytes(32)) },
  ];
  for (const lie of lies) {
    const err = await withFault('send', answer(lie), () =>
      rejects(lnd.pay(bolt11, { ...PAY, waitMs: 300 }), 'OUTCOME_UNKNOWN'),
    );
    assert.equal(err.details.backendCode, 'BACKEND_REJECTED', JSON.stringify(lie));
  }
});

test('garbled reads are BACKEND_REJECTED (malformed) with a clear message', async () => {
  for (const body of [
    '{',
    '[]',
    '{"identity_pubkey": 1}',
    `{"local_balance": {"sat": 1.5, "msat": "1500"}}`,
  ]) {
    for (const [route, call] of [
      ['getinfo', () => lnd.info()],
      ['balance', () => lnd.balance()],
    ] as const) {
      const err = await withFault(
        route,
        () => ({ status: 200, body }),
        () => rejects(call(), 'BACKEND_REJECTED'),
      );
      assert.equal(err.details.reason, 'malformed');
      assert.match(err.message, /malformed/);
    }
  }
});

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexOf);
const hostileLine = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        payment_hash: fc.oneof(fc.constant('HASH'), hex32),
        status: fc.constantFrom('SUCCEEDED', 'FAILED', 'IN_FLIGHT', 'UNKNOWN', 'INITIATED', 'paid', 1),
        payment_preimage: fc.oneof(hex32, fc.jsonValue()),
        value_msat: fc.oneof(
          fc.bigInt({ min: -10n, max: 2n ** 64n }).map(String),
          fc.double(),
          fc.jsonValue(),
        ),
        value_sat: fc.oneof(fc.bigInt({ min: 0n, max: 100n }).map(String), fc.jsonValue()),
        fee_msat: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.double()),
        fee_sat: fc.oneof(fc.bigInt({ min: 0n, max: 100n }).map(String), fc.jsonValue()),
        failure_reason: fc.constantFrom('FAILURE_REASON_NONE', 'FAILURE_REASON_NO_ROUTE', 'x'),
      },
      { requiredKeys: [] },
    )
    .map((p) => JSON.stringify({ [p.status === 1 ? 'error' : 'result']: p })),
);

test('fuzzed answers to a payment (fast-check): a WardenError or an outcome, never succeeded', async () => {
  const { bolt11, hash } = invoiceOf(C, 9_000n);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(200, 400, 404, 409, 500),
      fc.array(hostileLine, { maxLength: 4 }),
      fc.boolean(),
      async (status, lines, truncate) => {
        let body = lines.map((l) => l.replaceAll('HASH', hash)).join('\n');
        if (truncate) body = body.slice(0, Math.floor(body.length / 2));
        let state: PaymentState | null = null;
        try {
          state = await withFault(
            'send',
            () => ({ status, body }),
            () => lnd.pay(bolt11, { ...PAY, waitMs: 200 }),
          );
        } catch (err) {
          assert.ok(err instanceof WardenError, String(err));
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
        assert.notEqual(state.status, 'succeeded');
      },
    ),
    { numRuns: 150 },
  );
  assert.equal(C.claimed.has(hash), false);
});

test('a real keysend: succeeded, the hash the preimage’s, the amount at B; the same preimage again is refused (LIGHTNING_PAYMENT_EXISTS), nothing paid twice', async () => {
  const preimage = new Uint8Array(randomBytes(32));
  const hash = hexOf(sha256(preimage));
  const o = { destination: B.idHex, amountMsat: 3_000_000n, preimage, ...PAY };
  const sent = await lnd.keysend(o);
  assert.ok(
    sent.status === 'succeeded',
    JSON.stringify(sent, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
  );
  assert.deepEqual([sent.paymentHash, sent.preimage, sent.amountMsat], [hash, hexOf(preimage), 3_000_000n]);
  assert.equal(B.claimed.get(hash), 3_000_000n);
  const err = await rejects(lnd.keysend(o), 'LIGHTNING_PAYMENT_EXISTS');
  assert.equal(err.details.reason, 'already_paid');
  assert.equal(B.claimed.get(hash), 3_000_000n);
});

test('keysend refused before anything leaves: a destination that is no node id, a preimage not 32 bytes, no amount', async () => {
  const sends = front.requests.filter((r) => r.route === 'send').length;
  const preimage = new Uint8Array(randomBytes(32));
  const base = { destination: B.idHex, amountMsat: 1_000n, preimage, ...PAY };
  await rejects(lnd.keysend({ ...base, destination: B.idHex.toUpperCase() }), 'INVALID_REQUEST');
  await rejects(lnd.keysend({ ...base, preimage: preimage.slice(1) }), 'INVALID_REQUEST');
  await rejects(lnd.keysend({ ...base, amountMsat: 0n }), 'INVALID_AMOUNT');
  await rejects(lnd.keysend({ ...base, timeoutSeconds: 0 }), 'INVALID_REQUEST');
  assert.equal(front.requests.filter((r) => r.route === 'send').length, sends);
});

test('a keysend lnd answers with another payment’s update: OUTCOME_UNKNOWN, never succeeded', async () => {
  front.fault = (route) =>
    route === 'send'
      ? {
          status: 200,
          body: `${JSON.stringify({ result: { payment_hash: 'ab'.repeat(32), status: 'SUCCEEDED' } })}\n`,
        }
      : null;
  try {
    await rejects(
      lnd.keysend({
        destination: B.idHex,
        amountMsat: 1_000n,
        preimage: new Uint8Array(randomBytes(32)),
        ...PAY,
      }),
      'OUTCOME_UNKNOWN',
    );
  } finally {
    front.fault = null;
  }
});

test('every request body Warden sent is one lnd reads: checked against the request schemas of lnd’s swagger', async () => {
  const router = await loadSwagger('./router.swagger.subset.json');
  const lightning = await loadSwagger('./lightning.swagger.subset.json');
  const schemas: Partial<Record<LndRoute, unknown>> = {
    send: router.paths['/v2/router/send'].post.parameters[0].schema,
    addinvoice: lightning.paths['/v1/invoices'].post.parameters[0].schema,
  };
  const posted = front.requests.filter((r) => r.route === 'send' || r.route === 'addinvoice');
  assert.ok(posted.some((r) => r.route === 'send') && posted.some((r) => r.route === 'addinvoice'));
  // A keysend's body too (dest, payment_hash, dest_custom_records).
  assert.ok(posted.some((r) => r.route === 'send' && (r.body as Record<string, unknown>).dest !== undefined));
  for (const { route, body } of posted) assert.deepEqual(shapeProblems(body, schemas[route]), [], route);
});

test('listchannels: every open channel of the node behind the front, as LDK has it (peer, capacity, active, private), balances within the capacity', async () => {
  const channels = await lnd.channels();
  const ldkChannels = A.cm.list_channels().filter((c) => c.get_is_channel_ready());
  assert.equal(channels.length, 2, 'A–B opened by A and B–A opened by B');
  assert.equal(channels.length, ldkChannels.length);
  for (const c of ldkChannels) {
    const scid = c.get_short_channel_id();
    assert.ok(scid instanceof ldk.Option_u64Z_Some);
    const mine = channels.find((x) => x.channelId === scid.some.toString());
    assert.ok(mine, `channel ${scid.some} is listed`);
    assert.deepEqual(
      [mine.peerId, mine.active, mine.private, mine.capacityMsat],
      [
        hexOf(c.get_counterparty().get_node_id()),
        Boolean(c.get_is_usable()),
        !c.get_is_announced(),
        c.get_channel_value_satoshis() * 1000n,
      ],
    );
    // What A can still send is in its local balance; both sides fit in the capacity.
    assert.ok(mine.localMsat >= (c.get_outbound_capacity_msat() / 1000n) * 1000n);
    assert.ok(mine.localMsat + mine.remoteMsat <= mine.capacityMsat);
    assert.equal(mine.localMsat % 1000n, 0n, 'lnd lists channel balances in sat');
  }
  // A opened A–B with all of it (less what it paid B in this file): most of it is A's.
  const ab = channels.find((c) => c.peerId === B.idHex && c.localMsat > c.remoteMsat);
  assert.ok(
    ab,
    JSON.stringify(channels, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
  );
});

test('hostile listchannels answers are BACKEND_REJECTED (malformed), never a reading', async () => {
  const honest = {
    active: true,
    remote_pubkey: B.idHex,
    chan_id: '123456789',
    capacity: '1000000',
    local_balance: '600000',
    remote_balance: '390000',
    private: true,
  };
  const answer = (body: unknown) => () => ({ status: 200, body: JSON.stringify(body) });
  const control = await withFault('channels', answer({ channels: [honest] }), () => lnd.channels());
  assert.deepEqual(control, [
    {
      channelId: '123456789',
      peerId: B.idHex,
      active: true,
      private: true,
      capacityMsat: 1_000_000_000n,
      localMsat: 600_000_000n,
      remoteMsat: 390_000_000n,
    },
  ]);
  const lies: unknown[] = [
    {},
    { channels: {} },
    { channels: [null] },
    { channels: [{ ...honest, capacity: 1000000 }] },
    { channels: [{ ...honest, local_balance: '600000.5' }] },
    { channels: [{ ...honest, local_balance: '-1' }] },
    { channels: [{ ...honest, local_balance: '700000' }] },
    { channels: [{ ...honest, capacity: '0', local_balance: '0', remote_balance: '0' }] },
    { channels: [{ ...honest, active: 'true' }] },
    { channels: [{ ...honest, private: 1 }] },
    { channels: [{ ...honest, remote_pubkey: B.idHex.toUpperCase() }] },
    { channels: [{ ...honest, remote_pubkey: `04${B.idHex.slice(2)}` }] },
    { channels: [{ ...honest, chan_id: '18446744073709551616' }] },
    { channels: [{ ...honest, chan_id: 5 }] },
    { channels: [honest, honest] },
    { channels: Array.from({ length: MAX_CHANNELS + 1 }, (_, i) => ({ ...honest, chan_id: String(i) })) },
  ];
  for (const lie of lies) {
    const err = await withFault('channels', answer(lie), () => rejects(lnd.channels(), 'BACKEND_REJECTED'));
    assert.equal(err.details.reason, 'malformed', JSON.stringify(lie).slice(0, 200));
    assert.match(err.message, /listchannels is malformed/);
  }
});

test('fuzzed listchannels answers (fast-check): BACKEND_REJECTED, or channels whose balances fit in their capacity', async () => {
  const amount = fc.oneof(fc.bigInt({ min: -5n, max: 2n ** 64n }).map(String), fc.double(), fc.jsonValue());
  const channel = fc.record(
    {
      active: fc.oneof(fc.boolean(), fc.jsonValue()),
      remote_pubkey: fc.oneof(fc.constant(B.idHex), fc.constant(C.idHex), fc.string()),
      chan_id: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 65n }).map(String), fc.jsonValue()),
      capacity: amount,
      local_balance: amount,
      remote_balance: amount,
      private: fc.oneof(fc.boolean(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.array(channel, { maxLength: 4 }).map((channels) => JSON.stringify({ channels })),
  );
  let read = 0;
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      try {
        const channels = await withFault(
          'channels',
          () => ({ status: 200, body: text }),
          () => lnd.channels(),
        );
        read++;
        for (const c of channels) {
          assert.ok(c.capacityMsat > 0n && c.localMsat >= 0n && c.remoteMsat >= 0n);
          assert.ok(c.localMsat + c.remoteMsat <= c.capacityMsat);
          assert.match(c.peerId, /^0[23][0-9a-f]{64}$/);
        }
      } catch (err) {
        assert.ok(err instanceof WardenError && err.code === 'BACKEND_REJECTED', String(err));
      }
    }),
    { numRuns: 150 },
  );
  assert.ok(read > 0, 'some answers were well-formed: the property is not vacuous');
});
