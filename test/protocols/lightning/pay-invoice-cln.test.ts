/**
 * `lightning.pay_invoice` end to end over HTTP with `backend: cln`: a real gateway whose Lightning
 * backend is the CLN REST front (test/helpers/cln-rest-front.ts, Core Lightning's schemas) over
 * real LDK nodes A–B–C on a bcoin regtest chain (A pays; B is one hop away, C two), the rune
 * sealed in the identity's Lightning slot. The payments, fees, failures and preimages are real;
 * only the REST layer is the front's, not lightningd. pay-invoice.test.ts covers the rest of the
 * operation (held payments, reconcile, concurrency) over lnd's shapes: the path is the same.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { reconcileFromBackends } from '../../../src/gateway/reconcile-backends.ts';
import { lightningModuleConfig } from '../../../src/protocols/lightning/config.ts';
import { waitFor } from '../../helpers/ldk-node.ts';
import { startPayingGateway } from '../../helpers/lightning-gateway.ts';
import { invoiceOf, newRune, show, startClnFrontOver, startNodesABC } from '../../helpers/lightning-setup.ts';

const { ln, A, B, C } = await startNodesABC();
const { rune, front } = await startClnFrontOver(ln, A);
const CLN = lightningModuleConfig(
  // CLN may retry for a minute; the request answers `unknown` after 3 s (a held payment turns so here).
  { backend: 'cln', url: front.url, timeout_seconds: 60, wait_seconds: 3 },
  { tor: null },
);
const gateway = (identity: string, kind: 'rune' | 'macaroon', bytes: Uint8Array) =>
  startPayingGateway({ identity, cap: 10_000_000n, lightning: CLN, credential: { kind, bytes } });
const main = await gateway('alice', 'rune', rune);

describe('lightning.pay_invoice over HTTP, through the CLN REST front over real LDK nodes', () => {
  test('a one-hop payment: done with a preimage that opens the hash; the ledger holds the amount and the fee exactly', async () => {
    const { bolt11, hash } = invoiceOf(B, 21_000_000n);
    const r = await main.pay({ invoice: bolt11, fee_limit_sat: '5' });
    assert.equal(r.status, 200, show(r));
    const { request } = r.body;
    assert.equal(request.status, 'done', show(r));
    assert.equal(request.result.paymentHash, hash);
    assert.equal(Buffer.from(sha256(Buffer.from(request.result.preimage, 'hex'))).toString('hex'), hash);
    assert.equal(B.claimed.get(hash), 21_000_000n);
    assert.deepEqual(await main.rowsOf(request.requestId), [
      { status: 'committed', amount: '21000', fee: '0' },
    ]);
    const sent = front.requests.filter((q) => q.method === 'pay').at(-1)!.params;
    assert.deepEqual([sent.maxfee, sent.retry_for], [5_000, 60]);
  });

  test('a two-hop payment: the routing fee B earned is booked as paid (msat rounded up), not the limit', async () => {
    const earned = B.forwardedFeesMsat;
    const { bolt11, hash } = invoiceOf(C, 50_000_500n);
    const r = await main.pay({ invoice: bolt11 });
    const { request } = r.body;
    assert.equal(request?.status, 'done', show(r));
    const feeMsat = B.forwardedFeesMsat - earned;
    assert.ok(feeMsat > 0n);
    assert.equal(request.result.feeMsat, feeMsat.toString());
    assert.equal(C.claimed.get(hash), 50_000_500n);
    assert.equal(request.result.feeLimitSat, '501');
    assert.deepEqual(await main.rowsOf(request.requestId), [
      { status: 'committed', amount: '50001', fee: ((feeMsat + 999n) / 1000n).toString() },
    ]);
  });

  test('a failed route (more than any channel holds): LIGHTNING_PAYMENT_FAILED, the reservation released', async () => {
    const r = await main.pay({ invoice: invoiceOf(C, 5_000_000_000n).bolt11 });
    assert.equal(r.status, 502, show(r));
    assert.equal(r.body.error.code, 'LIGHTNING_PAYMENT_FAILED');
    assert.deepEqual(await main.rowsOf(r.body.error.details.requestId), [
      { status: 'released', amount: '5000000', fee: '50000' },
    ]);
  });

  test('the same invoice twice: the second is LIGHTNING_PAYMENT_EXISTS, nothing paid again', async () => {
    const { bolt11, hash } = invoiceOf(B, 3_000_000n);
    const first = await main.pay({ invoice: bolt11 });
    assert.equal(first.body.request?.status, 'done', show(first));
    const pays = front.requests.filter((q) => q.method === 'pay').length;
    const again = await main.pay({ invoice: bolt11, idempotencyKey: 'another' });
    assert.equal(again.status, 409, show(again));
    assert.equal(again.body.error.code, 'LIGHTNING_PAYMENT_EXISTS');
    assert.equal(
      front.requests.filter((q) => q.method === 'pay').length,
      pays,
      'CLN was not asked to pay again',
    );
    assert.equal(B.claimed.get(hash), 3_000_000n);
  });

  test('a held payment: unknown and reserved; reconcile (listpays) leaves it while held, commits it once settled; a failed one is not released while pay may still retry', async () => {
    B.holdIncoming = true;
    try {
      const held = invoiceOf(B, 2_000_000n);
      const r = await main.pay({ invoice: held.bolt11 });
      assert.equal(r.body.request?.status, 'unknown', show(r));
      const id = r.body.request.requestId;
      assert.deepEqual(await main.rowsOf(id), [{ status: 'unknown', amount: '2000', fee: '20' }]);
      const verdictOf = async (requestId: string) =>
        (await reconcileFromBackends(main.g.warden, main.g.gateway.operations)).find(
          (v) => v.requestId === requestId,
        );
      assert.equal((await verdictOf(id))?.verdict, 'unresolved');
      await waitFor(() => B.isHeld(held.hash), 5_000, 'B holds it');
      assert.ok(B.release(held.hash));
      await waitFor(() => B.claimed.has(held.hash), 10_000, 'B settles');
      const verdict = await verdictOf(id);
      assert.equal(verdict?.verdict, 'commit', JSON.stringify(verdict));
      assert.deepEqual(await main.rowsOf(id), [{ status: 'committed', amount: '2000', fee: '0' }]);

      const failing = invoiceOf(B, 2_500_000n);
      const f = await main.pay({ invoice: failing.bolt11 });
      assert.equal(f.body.request?.status, 'unknown', show(f));
      await waitFor(() => B.isHeld(failing.hash), 5_000, 'B holds the second');
      assert.ok(B.failBack(failing.hash));
      // listpays shows it failed, but says nothing of a retry to come: held until retry_for is over.
      assert.equal((await verdictOf(f.body.request.requestId))?.verdict, 'unresolved');
      assert.deepEqual(await main.rowsOf(f.body.request.requestId), [
        { status: 'unknown', amount: '2500', fee: '25' },
      ]);
    } finally {
      B.holdIncoming = false;
    }
  });

  test('a wrong rune: LIGHTNING_BACKEND_AUTH, the reservation released, nothing paid; a macaroon for a CLN backend: KEY_NOT_ACTIVE', async () => {
    const wrong = await gateway('mallory', 'rune', newRune());
    const { bolt11, hash } = invoiceOf(B, 1_000_000n);
    const r = await wrong.pay({ invoice: bolt11 });
    const code = r.body.error?.code ?? r.body.request?.error?.code;
    assert.equal(code, 'LIGHTNING_BACKEND_AUTH', show(r));
    const requestId = r.body.error?.details?.requestId ?? r.body.request?.requestId;
    assert.deepEqual(await wrong.rowsOf(requestId), [{ status: 'released', amount: '1000', fee: '10' }]);
    assert.equal(B.claimed.has(hash), false);

    const lnd = await gateway('bob', 'macaroon', new Uint8Array(randomBytes(32)));
    const refused = await lnd.pay({ invoice: invoiceOf(B, 1_000n).bolt11 });
    assert.equal(refused.body.error?.code, 'KEY_NOT_ACTIVE', show(refused));
    assert.match(refused.body.error.message, /Core Lightning takes a rune/);
  });
});
