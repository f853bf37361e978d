/**
 * Warden as the client of an upstream NWC wallet (src/protocols/lightning/backend/nwc-wallet.ts),
 * through the identity's sealed `nwc` credential (keys/: the URI's secret never leaves it), a real
 * relay on loopback (test/helpers/nostr-relay.ts), and the reference wallet service of
 * @getalby/sdk whose handlers pay through a real LDK node A of A–B–C on a bcoin regtest chain
 * (test/helpers/nwc-wallet-service.ts). Then the wallet lies, is silent, or refuses: no answer but
 * a preimage that opens the hash is ever `succeeded`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { fixedClock } from '../../../src/core/clock.ts';
import { WardenError } from '../../../src/core/errors.ts';
import { signerFor } from '../../../src/keys/capabilities.ts';
import { Vault } from '../../../src/keys/vault.ts';
import type { LightningBackend } from '../../../src/protocols/lightning/backend/backend.ts';
import { createLightningBackend } from '../../../src/protocols/lightning/backend/connect.ts';
import { passphrase, TEST_KDF, tempHome } from '../../helpers/home.ts';
import { A_B_C, B_TO_A, invoiceOf, rejects, startNodesABC } from '../../helpers/lightning-setup.ts';
import { startTestRelay } from '../../helpers/nostr-relay.ts';
import { startNwcWallet } from '../../helpers/nwc-wallet-service.ts';

const { ln, A, B, C } = await startNodesABC([...A_B_C, B_TO_A]);
const relay = await startTestRelay();
const wallet = await startNwcWallet(A, relay.url, () => ln.bitcoin.height());
test.after(async () => {
  wallet.stop();
  await relay.close();
});

const vault = await Vault.create(tempHome('nwcup'), passphrase(), fixedClock(new Date()), TEST_KDF);
vault.setAuditSink(async () => {});
await vault.commitNew('vault.init');
await vault.createIdentity('bot');
await vault.createIdentity('revoked');
await vault.setLightningCredential('bot', 'nwc', new TextEncoder().encode(`${wallet.uri}\n`));
await vault.setLightningCredential('revoked', 'nwc', new TextEncoder().encode(wallet.revokedUri));
const module = createLightningBackend({ kind: 'nwc', url: relay.url, timeoutSeconds: 30, waitSeconds: 60 });
const withWallet = <T>(fn: (w: LightningBackend) => Promise<T>, identity = 'bot') =>
  module.withBackend(identity, 'regtest', signerFor(vault, identity, 'lightning-credential'), fn);
const PAY = { feeLimitSat: 10n, timeoutSeconds: 30 };
const FEE_LIMIT_MSAT = PAY.feeLimitSat * 1000n;

test('info and balance are the LDK node behind the wallet; channels are not offered', async () => {
  await withWallet(async (w) => {
    const info = await w.info();
    assert.equal(info.nodeId, A.idHex);
    assert.equal(info.network, 'regtest');
    const balance = await w.balance();
    const outbound = A.usableChannels().reduce((s, c) => s + c.get_outbound_capacity_msat(), 0n);
    assert.equal(balance.localMsat, outbound);
    assert.ok(balance.localMsat > 0n);
    const err = await rejects(w.channels(), 'LIGHTNING_NOT_SUPPORTED');
    assert.equal(err.details.feature, 'channels');
  });
  // Every request Warden sent is NIP-44 v2, addressed to the wallet, and expires.
  const requests = relay.received.filter((e) => e.kind === 23194);
  assert.ok(requests.length >= 2);
  for (const r of requests) {
    assert.deepEqual(
      r.tags.find((t) => t[0] === 'p'),
      ['p', wallet.walletPubkey],
    );
    assert.deepEqual(
      r.tags.find((t) => t[0] === 'encryption'),
      ['encryption', 'nip44_v2'],
    );
    const expiration = Number(r.tags.find((t) => t[0] === 'expiration')?.[1]);
    assert.ok(expiration > r.created_at && expiration <= r.created_at + 60);
  }
});

test('pays a real invoice two hops away: the preimage opens the hash, the fee is what LDK paid', async () => {
  const { bolt11, hash } = invoiceOf(C, 50_000_000n);
  const paid = await withWallet((w) => w.pay(bolt11, PAY));
  assert.equal(paid.status, 'succeeded');
  if (paid.status !== 'succeeded') return;
  assert.equal(bytesToHex(sha256(hexToBytes(paid.preimage))), hash);
  assert.equal(paid.amountMsat, 50_000_000n);
  assert.ok(paid.feeMsat > 0n, 'a hop through B costs a fee');
  assert.equal(C.claimed.get(hash), 50_000_000n);
  // And tracked afterwards by its hash: the same payment.
  const tracked = await withWallet((w) => w.track(hash, 1000, FEE_LIMIT_MSAT));
  assert.deepEqual(tracked, paid);
});

test('a payment the network refuses is failed (nothing paid), and tracked as failed', async () => {
  // More than A can send: LDK finds no route.
  const { bolt11, hash } = invoiceOf(C, 5_000_000_000n);
  const state = await withWallet((w) => w.pay(bolt11, PAY));
  assert.equal(state.status, 'failed');
  assert.equal(C.claimed.get(hash), undefined);
  const tracked = await withWallet((w) => w.track(hash, 1000, FEE_LIMIT_MSAT));
  assert.equal(tracked?.status, 'failed');
  assert.equal(
    await withWallet((w) => w.track('00'.repeat(32), 500, FEE_LIMIT_MSAT)),
    null,
    'an unknown hash: null',
  );
});

test('the wallet pays but its answer never comes: OUTCOME_UNKNOWN, then track finds it paid', async () => {
  const { bolt11, hash } = invoiceOf(C, 20_000_000n);
  wallet.faults.next.set('pay_invoice', ['silent']);
  await rejects(
    withWallet((w) => w.pay(bolt11, { ...PAY, waitMs: 4000 })),
    'OUTCOME_UNKNOWN',
  );
  const tracked = await withWallet((w) => w.track(hash, 20_000, FEE_LIMIT_MSAT));
  assert.equal(tracked?.status, 'succeeded');
  assert.equal(C.claimed.get(hash), 20_000_000n);
});

test('track believes lookup_invoice only with a preimage that opens the hash; pending is in flight', async () => {
  const hash = invoiceOf(C, 1_000n).hash;
  const lie = (state: string, preimage: string) => ({
    result: { type: 'outgoing', state, payment_hash: hash, preimage, amount: 1_000, fees_paid: 0 },
  });
  wallet.faults.next.set('lookup_invoice', [
    lie('settled', bytesToHex(sha256(new Uint8Array(1)))),
    lie('settled', 'zz'),
    lie('pending', ''),
    { result: { type: 'incoming', state: 'settled', payment_hash: hash, amount: 1 } },
    { result: { type: 'outgoing', state: 'settled', payment_hash: '22'.repeat(32), amount: 1 } },
  ]);
  await rejects(
    withWallet((w) => w.track(hash, 0, FEE_LIMIT_MSAT)),
    'BACKEND_REJECTED',
  );
  await rejects(
    withWallet((w) => w.track(hash, 0, FEE_LIMIT_MSAT)),
    'BACKEND_REJECTED',
  );
  assert.deepEqual(await withWallet((w) => w.track(hash, 0, FEE_LIMIT_MSAT)), {
    status: 'in_flight',
    paymentHash: hash,
  });
  await rejects(
    withWallet((w) => w.track(hash, 0, FEE_LIMIT_MSAT)),
    'BACKEND_REJECTED',
  );
  await rejects(
    withWallet((w) => w.track(hash, 0, FEE_LIMIT_MSAT)),
    'BACKEND_REJECTED',
  );
});

test('a success whose lookup names no fee counts the whole fee limit (never 0): the budget never under-counts', async () => {
  const preimage = bytesToHex(sha256(new TextEncoder().encode('no fee named')));
  const hash = bytesToHex(sha256(hexToBytes(preimage)));
  const settled = (fees: Record<string, unknown>) => ({
    result: { type: 'outgoing', state: 'settled', payment_hash: hash, preimage, amount: 5_000, ...fees },
  });
  wallet.faults.next.set('lookup_invoice', [
    settled({}),
    settled({ fees_paid: null }),
    settled({ fees_paid: 3 }),
  ]);
  const expected = { status: 'succeeded', paymentHash: hash, preimage, amountMsat: 5_000n };
  assert.deepEqual(await withWallet((w) => w.track(hash, 0, FEE_LIMIT_MSAT)), {
    ...expected,
    feeMsat: FEE_LIMIT_MSAT,
  });
  assert.deepEqual(await withWallet((w) => w.track(hash, 0, 7n)), { ...expected, feeMsat: 7n });
  // A fee named is the fee, even below the limit.
  assert.deepEqual(await withWallet((w) => w.track(hash, 0, FEE_LIMIT_MSAT)), { ...expected, feeMsat: 3n });
  await rejects(
    withWallet((w) => w.track(hash, 0, -1n)),
    'INVALID_REQUEST',
  );
});

test('a preimage that does not open the hash is never succeeded', async () => {
  const { bolt11 } = invoiceOf(C, 1_000_000n);
  wallet.faults.next.set('pay_invoice', ['bad_preimage']);
  await rejects(
    withWallet((w) => w.pay(bolt11, PAY)),
    'OUTCOME_UNKNOWN',
  );
});

test('makes an invoice, B pays it, lookup_invoice shows it settled with the preimage', async () => {
  const made = await withWallet((w) =>
    w.createInvoice({ amountMsat: 7_000_000n, description: 'nwc upstream', expirySeconds: 600 }),
  );
  assert.equal(made.invoice.payee, A.idHex);
  assert.equal(made.invoice.amountMsat, 7_000_000n);
  const open = await withWallet((w) => w.lookupInvoice(made.paymentHash));
  assert.equal(open?.state, 'open');
  const outcome = await ln.pay('B', made.bolt11, 1_000_000n);
  assert.equal(outcome.state, 'succeeded');
  const settled = await withWallet((w) => w.lookupInvoice(made.paymentHash));
  assert.equal(settled?.state, 'settled');
  if (settled?.state !== 'settled') return;
  assert.equal(bytesToHex(sha256(hexToBytes(settled.preimage))), made.paymentHash);
  assert.equal(settled.paidMsat, 7_000_000n);
  assert.equal(await withWallet((w) => w.lookupInvoice('11'.repeat(32))), null);
});

test('a revoked connection (UNAUTHORIZED) is LIGHTNING_BACKEND_AUTH; rate limits refuse before paying', async () => {
  await rejects(
    withWallet((w) => w.info(), 'revoked'),
    'LIGHTNING_BACKEND_AUTH',
  );
  const { bolt11: b1 } = invoiceOf(C, 1_000_000n);
  await rejects(
    withWallet((w) => w.pay(b1, PAY), 'revoked'),
    'LIGHTNING_BACKEND_AUTH',
  );
  const { bolt11, hash } = invoiceOf(C, 1_000_000n);
  wallet.faults.next.set('pay_invoice', [{ error: { code: 'RATE_LIMITED', message: 'slow down' } }]);
  const err = await rejects(
    withWallet((w) => w.pay(bolt11, PAY)),
    'BACKEND_REJECTED',
  );
  assert.equal(err.details.reason, 'rate_limited');
  wallet.faults.next.set('pay_invoice', [{ error: { code: 'INSUFFICIENT_BALANCE', message: 'empty' } }]);
  const state = await withWallet((w) => w.pay(bolt11, PAY));
  assert.deepEqual(state, { status: 'failed', paymentHash: hash, reason: 'insufficient_balance' });
});

test('fuzzed hostile answers to pay_invoice are never succeeded', async () => {
  const { bolt11 } = invoiceOf(C, 1_000_000n);
  const hostile = fc.oneof(
    fc.record({ result: fc.anything() }),
    fc.record({
      result: fc.record({
        preimage: fc.oneof(
          fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex),
          fc.string(),
          fc.anything(),
        ),
        fees_paid: fc.anything(),
      }),
    }),
    fc.record({
      error: fc.record({
        code: fc.oneof(fc.constantFrom('OTHER', 'INTERNAL', 'NOT_FOUND'), fc.string()),
        message: fc.anything(),
      }),
    }),
    fc.record({ result: fc.anything(), error: fc.anything() }),
  );
  await fc.assert(
    fc.asyncProperty(hostile, async (answer) => {
      wallet.faults.next.set('pay_invoice', [answer as never]);
      try {
        const state = await withWallet((w) => w.pay(bolt11, { ...PAY, waitMs: 3000 }));
        assert.notEqual(state.status, 'succeeded');
      } catch (err) {
        assert.ok(err instanceof WardenError, String(err));
      }
    }),
    { numRuns: 25 },
  );
  assert.equal(B.usableChannels().length > 0, true);
});
