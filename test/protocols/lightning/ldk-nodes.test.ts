/**
 * The Lightning test peers themselves (test/helpers/ldk-node.ts): real LDK nodes on a bcoin
 * regtest chain pay each other over real channels, so the tests built on them start from a
 * network known to work. Warden is not involved here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PaymentFailureReason } from 'lightningdevkit';
import { outcomeOf, startLightningNodes, waitFor } from '../../helpers/ldk-node.ts';

const ln = await startLightningNodes(
  ['A', 'B', 'C'],
  [
    ['A', 'B', 1_000_000n],
    ['B', 'C', 1_000_000n],
  ],
);
test(`started in ${ln.startup.totalMs} ms (bcoin ${ln.startup.bitcoinMs}, segwit ${ln.startup.segwitMs}, channels ${ln.startup.channelsMs})`, () => {
  assert.ok(ln.startup.totalMs < 30_000);
});

test('A pays C through B: the fee A paid is the fee B earned', async () => {
  const invoice = ln.node('C').invoice(50_000_000n, 'two hops', 600);
  const outcome = await ln.pay('A', invoice.to_str(), 10_000n);
  assert.equal(
    outcome.state,
    'succeeded',
    `${JSON.stringify(outcome, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))} ${ln.problems()}`,
  );
  assert.ok(outcome.state === 'succeeded' && outcome.feeMsat > 0n);
  assert.equal(outcome.state === 'succeeded' && outcome.feeMsat, ln.node('B').forwardedFeesMsat);
  assert.equal(ln.node('C').claimed.get(Buffer.from(invoice.payment_hash()).toString('hex')), 50_000_000n);
});

test('more than the channels hold finds no route', async () => {
  const outcome = await ln.pay('A', ln.node('C').invoice(2_000_000_000n, 'too much', 600).to_str(), 10_000n);
  assert.equal(outcome.state, 'failed');
  assert.equal(
    outcome.state === 'failed' && outcome.reason,
    PaymentFailureReason.LDKPaymentFailureReason_RouteNotFound,
  );
});

test('a held payment stays in flight until the payee releases it', async () => {
  const C = ln.node('C');
  C.holdIncoming = true;
  try {
    const invoice = C.invoice(1_000_000n, 'held', 600);
    const hash = Buffer.from(invoice.payment_hash()).toString('hex');
    const paymentId = ln.node('A').send(invoice, 10_000n)!;
    await waitFor(() => C.isHeld(hash), 10_000, 'C holds the payment');
    assert.equal(ln.node('A').outcomeOf(paymentId), null);
    assert.ok(C.release(hash));
    assert.equal((await outcomeOf(ln.node('A'), paymentId, 10_000)).state, 'succeeded');
  } finally {
    C.holdIncoming = false;
  }
});
