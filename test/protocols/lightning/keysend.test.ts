/**
 * `lightning.keysend` end to end over HTTP: a real gateway whose backend is the LND REST front
 * (lnd's SendPaymentV2 keysend shape: dest, payment_hash, the preimage in record 5482373484) over
 * real LDK nodes A–B–C on a bcoin regtest chain, the front mapping it to LDK's spontaneous payment.
 * Warden's node is A. The payments, fees, failures and preimages are real.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reconcileFromBackends } from '../../../src/gateway/reconcile-backends.ts';
import { lightningModuleConfig } from '../../../src/protocols/lightning/config.ts';
import type { LightningDb } from '../../../src/protocols/lightning/tables.ts';
import { waitFor } from '../../helpers/ldk-node.ts';
import { ledgerRowsOf, lightningPayPolicy } from '../../helpers/lightning-gateway.ts';
import {
  assertKeysendDone,
  show,
  startLightningGateway,
  startLndFrontOver,
  startNodesABC,
} from '../../helpers/lightning-setup.ts';

const { ln, A, B, C } = await startNodesABC();
const { macaroon, front } = await startLndFrontOver(ln, A);

/** Invoices and keysend, one budget: only the second rule names keysend, so only it allows one. */
const POLICY = lightningPayPolicy('lightning-keysend', { cap: 1_000_000n, keysend: {} });
/** A policy written for invoices: a keysend is not allowed by it. */
const INVOICES_ONLY = lightningPayPolicy('lightning-invoices');
/**
 * One 24-hour window of 5,000 sat over invoices and keysends alike. A rule's limits bound what it
 * matches, and a broad rule does not match a keysend (opt-in): the keysend rule carries its own.
 */
const ONE_BUDGET = lightningPayPolicy('lightning-one-budget', { cap: 5_000n, keysend: { cap: 5_000n } });

const g = await startLightningGateway({
  identities: ['alice', 'invoices', 'budget'],
  policies: { alice: POLICY, invoices: INVOICES_ONLY, budget: ONE_BUDGET },
  // A short wait, so that a held payment turns `unknown` within the test.
  lightning: lightningModuleConfig(
    { backend: 'lnd', url: front.url, timeout_seconds: 60, wait_seconds: 3 },
    { tor: null },
  ),
  credential: { kind: 'macaroon', bytes: macaroon },
});
const tokenOf = (identity: string, capabilities: string[]) => g.token('agent', { identity, capabilities });
const alice = await tokenOf('alice', ['lightning:keysend']);
const keysend = (body: unknown, token = alice) => g.call('POST', '/v1/lightning/keysend', { token, body });
const rowsOf = (requestId: string) => ledgerRowsOf(g, requestId);

describe('lightning.keysend over the LND REST front and real LDK nodes', () => {
  test('A to B, one hop: done, the preimage Warden drew opens the hash, B received it, the ledger holds amount and fee', async () => {
    const r = await keysend({ destination: B.idHex, amount_msat: '21000000', fee_limit_sat: '5' });
    const request = assertKeysendDone(r, B, 21_000_000n);
    const { paymentHash, preimage } = request.result;
    // lnd was asked in its keysend shape, the hash Warden claimed, the preimage in its record.
    const asked = front.requests.filter((q) => q.route === 'send').at(-1)?.body as Record<string, any>;
    assert.equal(asked.payment_request, undefined);
    assert.equal(Buffer.from(asked.dest, 'base64').toString('hex'), B.idHex);
    assert.equal(Buffer.from(asked.payment_hash, 'base64').toString('hex'), paymentHash);
    assert.equal(Buffer.from(asked.dest_custom_records['5482373484'], 'base64').toString('hex'), preimage);
    assert.deepEqual([asked.amt_msat, asked.fee_limit_sat], ['21000000', '5']);
    assert.deepEqual([request.result.feeMsat, request.result.feeSat], ['0', '0']);
    assert.deepEqual(await rowsOf(request.requestId), [{ status: 'committed', amount: '21000', fee: '0' }]);
    const claim = await (g.warden.store.db as unknown as LightningDb)
      .selectFrom('lightning_payment')
      .selectAll()
      .where('payment_hash', '=', paymentHash)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [claim.status, claim.request_id, claim.identity],
      ['succeeded', request.requestId, 'alice'],
    );
  });

  test('A to C, two hops over B’s private channel: no route (a keysend carries no route hint), failed and released', async () => {
    const r = await keysend({ destination: C.idHex, amount_msat: '10000000' });
    assert.equal(r.status, 502, show(r));
    assert.equal(r.body.error.code, 'LIGHTNING_PAYMENT_FAILED');
    assert.deepEqual(await rowsOf(r.body.error.details.requestId), [
      { status: 'released', amount: '10000', fee: '100' },
    ]);
    assert.equal([...C.claimed.values()].length, 0);
  });

  test('more than the channel holds: failed, the reservation released', async () => {
    const r = await keysend({ destination: B.idHex, amount_msat: '5000000000' });
    assert.equal(r.status, 502, show(r));
    assert.equal(r.body.error.code, 'LIGHTNING_PAYMENT_FAILED');
    assert.deepEqual(await rowsOf(r.body.error.details.requestId), [
      { status: 'released', amount: '5000000', fee: '50000' },
    ]);
  });

  test('a hash is never sent twice: every keysend draws its own preimage; a replay with the same key is the first answer', async () => {
    const before = front.keysends.length;
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await keysend({ destination: B.idHex, amount_msat: '1000000' }));
    const hashes = results.map((r) => r.body.request?.result?.paymentHash as string);
    assert.ok(
      results.every((r) => r.body.request?.status === 'done'),
      results.map(show).join('\n'),
    );
    assert.equal(new Set(hashes).size, 5);
    const sent = front.keysends.slice(before).map((k) => k.paymentHash);
    assert.deepEqual(sent, hashes);
    const first = await keysend({ destination: B.idHex, amount_msat: '1000000', idempotencyKey: 'ks-once' });
    const again = await keysend({ destination: B.idHex, amount_msat: '1000000', idempotencyKey: 'ks-once' });
    assert.equal(again.body.request.requestId, first.body.request.requestId);
    assert.equal(again.body.request.result.paymentHash, first.body.request.result.paymentHash);
    assert.equal(front.keysends.length, before + 6);
    const all = front.keysends.map((k) => k.paymentHash);
    assert.equal(new Set(all).size, all.length, 'no hash handed to the node twice');
  });

  test('20 keysends at once: 20 hashes, each claimed once and handed to the node once; what was not paid is released', async () => {
    const before = front.keysends.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        keysend({ destination: B.idHex, amount_msat: '1000000', fee_limit_sat: '1' }),
      ),
    );
    const ids = results.map((r) => (r.body.request ?? r.body.error?.details?.request)?.requestId as string);
    assert.equal(new Set(ids).size, 20, results.map(show).join('\n'));
    const sent = front.keysends.slice(before).map((k) => k.paymentHash);
    assert.equal(sent.length, 20);
    assert.equal(new Set(sent).size, 20, 'no hash handed over twice');
    const claims = await (g.warden.store.db as unknown as LightningDb)
      .selectFrom('lightning_payment')
      .select(['payment_hash', 'status'])
      .where('request_id', 'in', ids)
      .execute();
    assert.deepEqual(claims.map((c) => c.payment_hash).sort(), [...sent].sort());
    for (const [i, r] of results.entries()) {
      const rows = await rowsOf(ids[i]!);
      const status = (r.body.request ?? r.body.error?.details?.request)?.status as string;
      const done = status === 'done';
      // LDK may find no route for some while many HTLCs are in flight: those fail and are
      // released. One still in flight after the short wait stays reserved (unknown).
      const ledger = done ? 'committed' : status === 'unknown' ? 'unknown' : 'released';
      assert.deepEqual(rows, [{ status: ledger, amount: '1000', fee: done ? '0' : '1' }], show(r));
      if (done) assert.equal(B.claimed.get(r.body.request.result.paymentHash), 1_000_000n);
    }
    assert.ok(results.filter((r) => r.body.request?.status === 'done').length > 0);
  });

  test('held by the payee: unknown and reserved; once B settles, reconcile commits it by its hash', async () => {
    B.holdIncoming = true;
    let id = '';
    try {
      const r = await keysend({ destination: B.idHex, amount_msat: '2000000' });
      assert.equal(r.body.request.status, 'unknown', show(r));
      id = r.body.request.requestId;
      const hash = r.body.request.result.paymentHash as string;
      assert.deepEqual(await rowsOf(id), [{ status: 'unknown', amount: '2000', fee: '20' }]);
      let verdicts = await reconcileFromBackends(g.warden, g.gateway.operations);
      assert.equal(verdicts.find((v) => v.requestId === id)?.verdict, 'unresolved');
      assert.ok(B.release(hash));
      await waitFor(() => B.claimed.has(hash), 10_000, 'B settles');
      verdicts = await reconcileFromBackends(g.warden, g.gateway.operations);
      assert.equal(verdicts.find((v) => v.requestId === id)?.verdict, 'commit');
    } finally {
      B.holdIncoming = false;
    }
    assert.equal((await rowsOf(id))[0]?.status, 'committed');
  });

  test('a separate capability: a token with lightning:pay_invoice cannot keysend', async () => {
    const payer = await tokenOf('alice', ['lightning:pay_invoice']);
    const asked = front.requests.length;
    const r = await keysend({ destination: B.idHex, amount_msat: '1000' }, payer);
    assert.equal(r.status, 403, show(r));
    assert.equal(r.body.error.code, 'FORBIDDEN');
    assert.equal(front.requests.length, asked);
  });

  test('opt-in in policy: a policy that allows Lightning payments but names no keysend refuses one', async () => {
    const token = await tokenOf('invoices', ['lightning:keysend']);
    const asked = front.requests.length;
    const r = await keysend({ destination: B.idHex, amount_msat: '1000' }, token);
    assert.equal(r.status, 403, show(r));
    assert.equal(r.body.error.code, 'NO_MATCHING_RULE');
    assert.match(JSON.stringify(r.body.error), /payment: keysend/);
    assert.equal(front.requests.length, asked);
  });

  test('one budget with invoices: a keysend counts in the window of the rule for invoices, fees included; the keysend rule’s own limits bound keysends', async () => {
    const token = await tokenOf('budget', ['lightning:keysend', 'lightning:pay_invoice']);
    // 3,000 sat + a fee limit of 10: 3,010 of the 5,000 booked (then the fee paid, 0, replaces it).
    const sent = await keysend({ destination: B.idHex, amount_msat: '3000000', fee_limit_sat: '10' }, token);
    assert.equal(sent.body.request?.status, 'done', show(sent));
    // An invoice of 2,500 sat (+ its 10 sat fee floor) does not fit in what is left: refused.
    const invoice = B.invoice(2_500_000n, 'budget', 600).to_str();
    const paid = await g.call('POST', '/v1/lightning/pay-invoice', { token, body: { invoice } });
    assert.equal(paid.status, 403, show(paid));
    assert.equal(paid.body.error.code, 'LIMIT_EXCEEDED');
    // Nor does a keysend of the same size, by the keysend rule's own window.
    const more = await keysend({ destination: B.idHex, amount_msat: '2500000' }, token);
    assert.equal(more.status, 403, show(more));
    assert.equal(more.body.error.code, 'LIMIT_EXCEEDED');
  });

  test('hostile bodies: stable codes, nothing sent', async () => {
    const asked = front.requests.length;
    const notOnCurve = `02${'ff'.repeat(32)}`;
    const cases: [unknown, string][] = [
      [{}, 'INVALID_REQUEST'],
      [{ destination: B.idHex }, 'INVALID_REQUEST'],
      [{ destination: B.idHex.toUpperCase(), amount_msat: '1000' }, 'INVALID_ADDRESS'],
      [{ destination: notOnCurve, amount_msat: '1000' }, 'INVALID_ADDRESS'],
      [{ destination: `04${B.idHex.slice(2)}`, amount_msat: '1000' }, 'INVALID_ADDRESS'],
      [{ destination: B.idHex.slice(0, 64), amount_msat: '1000' }, 'INVALID_ADDRESS'],
      [{ destination: B.idHex, amount_msat: '0' }, 'INVALID_AMOUNT'],
      [{ destination: B.idHex, amount_msat: 1000 }, 'INVALID_AMOUNT'],
      [{ destination: B.idHex, amount_msat: '1000', fee_limit_sat: '-1' }, 'INVALID_AMOUNT'],
      [{ destination: B.idHex, amount_msat: '1000', preimage: '00'.repeat(32) }, 'INVALID_REQUEST'],
    ];
    for (const [body, code] of cases) {
      const r = await keysend(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${show(r)}`);
      assert.equal(r.body.error.code, code, JSON.stringify(body));
    }
    assert.equal(front.requests.length, asked);
  });
});
