/**
 * `lightning.pay_invoice` end to end over HTTP with `backend: nwc`: a real gateway whose Lightning
 * backend is an upstream NWC wallet (the reference NWCWalletService of @getalby/sdk on a real
 * relay, paying through the real LDK node A of A–B–C on a bcoin regtest chain,
 * test/helpers/nwc-wallet-service.ts), its connection URI sealed in the identity's Lightning slot.
 * NIP-47 has no fee limit: the fee booked is the one the wallet paid. nwc-wallet.test.ts covers
 * the client's answers one by one; here the path: ledger, release, reconcile.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { reconcileFromBackends } from '../../../src/gateway/reconcile-backends.ts';
import { lightningModuleConfig } from '../../../src/protocols/lightning/config.ts';
import { ledgerRowsOf, lightningPayPolicy, startPayingGateway } from '../../helpers/lightning-gateway.ts';
import {
  assertKeysendDone,
  invoiceOf,
  show,
  startLightningGateway,
  startNodesABC,
} from '../../helpers/lightning-setup.ts';
import { startTestRelay } from '../../helpers/nostr-relay.ts';
import { startNwcWallet } from '../../helpers/nwc-wallet-service.ts';

const { ln, A, B, C } = await startNodesABC();
const relay = await startTestRelay();
const wallet = await startNwcWallet(A, relay.url, () => ln.bitcoin.height());
test.after(async () => {
  wallet.stop();
  await relay.close();
});
const NWC = lightningModuleConfig(
  // A request answers `unknown` after 3 s without the wallet's answer; reconcile takes over.
  { backend: 'nwc', url: relay.url, timeout_seconds: 3, wait_seconds: 3 },
  { tor: null },
);
const gateway = (identity: string, uri: string) =>
  startPayingGateway({
    identity,
    cap: 10_000_000n,
    lightning: NWC,
    credential: { kind: 'nwc', bytes: new TextEncoder().encode(uri) },
  });
const main = await gateway('alice', wallet.uri);

describe('lightning.pay_invoice over HTTP, through an upstream NWC wallet over real LDK nodes', () => {
  test('a two-hop payment: done with a preimage that opens the hash; the ledger books the fee the wallet paid', async () => {
    const earned = B.forwardedFeesMsat;
    const { bolt11, hash } = invoiceOf(C, 50_000_500n);
    const r = await main.pay({ invoice: bolt11 });
    const { request } = r.body;
    assert.equal(request?.status, 'done', show(r));
    assert.equal(Buffer.from(sha256(Buffer.from(request.result.preimage, 'hex'))).toString('hex'), hash);
    const feeMsat = B.forwardedFeesMsat - earned;
    assert.ok(feeMsat > 0n);
    assert.equal(request.result.feeMsat, feeMsat.toString());
    assert.equal(C.claimed.get(hash), 50_000_500n);
    assert.deepEqual(await main.rowsOf(request.requestId), [
      { status: 'committed', amount: '50001', fee: ((feeMsat + 999n) / 1000n).toString() },
    ]);
    const asked = wallet.requests.filter((q) => q.method === 'pay_invoice').at(-1)?.params;
    assert.deepEqual(asked, { invoice: bolt11 }, 'NIP-47 carries the invoice, no fee limit');
  });

  test('a failed route (more than any channel holds): LIGHTNING_PAYMENT_FAILED, the reservation released', async () => {
    const r = await main.pay({ invoice: invoiceOf(C, 5_000_000_000n).bolt11 });
    assert.equal(r.status, 502, show(r));
    assert.equal(r.body.error.code, 'LIGHTNING_PAYMENT_FAILED');
    assert.deepEqual(await main.rowsOf(r.body.error.details.requestId), [
      { status: 'released', amount: '5000000', fee: '50000' },
    ]);
  });

  test('the wallet pays but does not answer: unknown and reserved; reconcile (lookup_invoice) commits it', async () => {
    const { bolt11, hash } = invoiceOf(B, 2_000_000n);
    wallet.faults.next.set('pay_invoice', ['silent']);
    const r = await main.pay({ invoice: bolt11 });
    assert.equal(r.body.request?.status, 'unknown', show(r));
    const id = r.body.request.requestId;
    assert.deepEqual(await main.rowsOf(id), [{ status: 'unknown', amount: '2000', fee: '20' }]);
    assert.equal(B.claimed.get(hash), 2_000_000n, 'it was paid');
    const verdict = (await reconcileFromBackends(main.g.warden, main.g.gateway.operations)).find(
      (v) => v.requestId === id,
    );
    assert.equal(verdict?.verdict, 'commit', JSON.stringify(verdict));
    assert.deepEqual(await main.rowsOf(id), [{ status: 'committed', amount: '2000', fee: '0' }]);
  });

  test('a revoked connection: LIGHTNING_BACKEND_AUTH, released, nothing paid; a macaroon for an NWC backend: KEY_NOT_ACTIVE', async () => {
    const revoked = await gateway('mallory', wallet.revokedUri);
    const { bolt11, hash } = invoiceOf(B, 1_000_000n);
    const r = await revoked.pay({ invoice: bolt11 });
    const code = r.body.error?.code ?? r.body.request?.error?.code;
    assert.equal(code, 'LIGHTNING_BACKEND_AUTH', show(r));
    const requestId = r.body.error?.details?.requestId ?? r.body.request?.requestId;
    assert.deepEqual(await revoked.rowsOf(requestId), [{ status: 'released', amount: '1000', fee: '10' }]);
    assert.equal(B.claimed.has(hash), false);

    const lnd = await startPayingGateway({
      identity: 'bob',
      cap: 10_000_000n,
      lightning: NWC,
      credential: { kind: 'macaroon', bytes: new Uint8Array(32).fill(3) },
    });
    const refused = await lnd.pay({ invoice: invoiceOf(B, 1_000n).bolt11 });
    assert.equal(refused.body.error?.code, 'KEY_NOT_ACTIVE', show(refused));
    assert.match(refused.body.error.message, /NWC wallet takes a nwc/);
  });
});

describe('lightning.keysend over HTTP, through the same upstream NWC wallet (pay_keysend)', async () => {
  // Keysend needs its own rule (the opt-in facet `payment: keysend`) and its own capability.
  const k = await startLightningGateway({
    identities: ['bob'],
    policies: { bob: lightningPayPolicy('lightning-keysend', { keysend: { cap: 1_000_000n } }) },
    lightning: NWC,
    credential: { kind: 'nwc', bytes: new TextEncoder().encode(wallet.uri) },
  });
  const token = await k.token('agent', { identity: 'bob', capabilities: ['lightning:keysend'] });
  const keysend = (body: unknown) => k.call('POST', '/v1/lightning/keysend', { token, body });
  const rowsOf = (requestId: string) => ledgerRowsOf(k, requestId);

  test('A to B, one hop: done; the wallet was handed the preimage Warden drew, which opens the hash B was paid by', async () => {
    const r = await keysend({ destination: B.idHex, amount_msat: '21000000', fee_limit_sat: '5' });
    const request = assertKeysendDone(r, B, 21_000_000n);
    const { preimage } = request.result;
    const asked = wallet.requests.filter((q) => q.method === 'pay_keysend').at(-1)?.params;
    assert.deepEqual(asked, { amount: 21_000_000, pubkey: B.idHex, preimage });
    assert.deepEqual(await rowsOf(request.requestId), [{ status: 'committed', amount: '21000', fee: '0' }]);
  });

  test('A to C, two hops over a channel A has no route to without a hint: failed, the reservation released', async () => {
    const r = await keysend({ destination: C.idHex, amount_msat: '10000000' });
    assert.equal(r.status, 502, show(r));
    assert.equal(r.body.error.code, 'LIGHTNING_PAYMENT_FAILED');
    const rows = await rowsOf(r.body.error.details.requestId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'released');
  });

  test('a wallet whose answer is lost: unknown and still reserved; the payment is looked up by its hash and committed', async () => {
    wallet.faults.next.set('pay_keysend', ['silent']);
    const r = await keysend({ destination: B.idHex, amount_msat: '3000000' });
    assert.equal(r.body.request?.status, 'unknown', show(r));
    const id = r.body.request.requestId;
    assert.deepEqual(await rowsOf(id), [{ status: 'unknown', amount: '3000', fee: '30' }]);
    const verdict = (await reconcileFromBackends(k.warden, k.gateway.operations)).find(
      (v) => v.requestId === id,
    );
    assert.equal(verdict?.verdict, 'commit', JSON.stringify(verdict));
    assert.deepEqual(await rowsOf(id), [{ status: 'committed', amount: '3000', fee: '0' }]);
  });
});
