/**
 * The receive side of Lightning end to end over HTTP: `lightning.make_invoice`,
 * `lightning.lookup_invoice` and `lightning.balance` through a real gateway whose backend is the
 * LND REST front (lnd's shapes) over real LDK nodes on a bcoin regtest chain. Warden's node is A;
 * B pays A's invoices over its own channel to A, straight through LDK (no Warden on B's side).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBolt11 } from '../../../src/protocols/lightning/bolt11.ts';
import { lightningModuleConfig } from '../../../src/protocols/lightning/config.ts';
import { startLightningNodes } from '../../helpers/ldk-node.ts';
import { lightningPayPolicy } from '../../helpers/lightning-gateway.ts';
import { B_TO_A, show, startLightningGateway, startLndFrontOver } from '../../helpers/lightning-setup.ts';
import { balanceJson } from '../../helpers/lnd-front-json.ts';
import { httpClient } from '../../helpers/mcp.ts';

const ln = await startLightningNodes(['A', 'B'], [['A', 'B', 1_000_000n], B_TO_A]);
const A = ln.node('A');
const { macaroon, front } = await startLndFrontOver(ln, A);

const RECEIVE = `
version: 1
name: lightning-receive
risk: { tolerance: high }
rules:
  - id: receive-and-read
    match: { protocol: lightning, action: [receive, read] }
    effect: allow
`;
const PAY_ONLY = lightningPayPolicy('lightning-pay-only');
const CAPABILITIES = ['lightning:make_invoice', 'lightning:lookup_invoice', 'lightning:balance'];

const g = await startLightningGateway({
  identities: ['alice', 'bob', 'payonly'],
  policies: { alice: RECEIVE, bob: RECEIVE, payonly: PAY_ONLY },
  lightning: lightningModuleConfig({ backend: 'lnd', url: front.url }, { tor: null }),
  credential: { kind: 'macaroon', bytes: macaroon },
  // Tight for make_invoice (the rate-limit test), wide for everything else.
  rateLimits: (op) => ({ max: op === 'lightning.make_invoice' ? 30 : 1_000, windowMs: 60_000 }),
});
const agent = async (identity: string, capabilities = CAPABILITIES) => {
  const token = await g.token('agent', { identity, capabilities });
  return (path: string, body: unknown) => g.call('POST', `/v1/lightning/${path}`, { token, body });
};
const alice = await agent('alice');
const bob = await agent('bob');

async function makeInvoice(call = alice, body: Record<string, unknown> = { amount_msat: '21000' }) {
  const r = await call('make-invoice', body);
  assert.equal(r.status, 200, show(r));
  assert.equal(r.body.request.status, 'done', show(r));
  return r.body.request.result as {
    bolt11: string;
    paymentHash: string;
    amountMsat: string;
    expiresAt: string;
    description: string;
  };
}

describe('lightning.make_invoice over the LND REST front and real LDK nodes', () => {
  test('an invoice of A for the amount, short-lived by default, with route hints, that B can pay', async () => {
    const made = await makeInvoice(alice, { amount_msat: '21000', description: 'coffee' });
    const decoded = decodeBolt11(made.bolt11);
    assert.equal(decoded.payee, A.idHex);
    assert.equal(decoded.paymentHash, made.paymentHash);
    assert.equal(decoded.amountMsat, 21_000n);
    assert.equal(decoded.description, 'coffee');
    assert.equal(decoded.network, 'regtest');
    assert.equal(decoded.expirySeconds, 600);
    assert.equal(made.expiresAt, new Date((decoded.timestamp + 600) * 1000).toISOString());
    assert.ok(decoded.routeHints.length > 0, 'route hints for the private channels');
    // lnd is asked for them by name (lnd adds hints only when `private`).
    const asked = front.requests.filter((r) => r.route === 'addinvoice').at(-1)?.body as Record<
      string,
      unknown
    >;
    assert.equal(asked.private, true);
    const paid = await ln.pay('B', made.bolt11, 1_000n);
    assert.equal(
      paid.state,
      'succeeded',
      JSON.stringify(paid, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
    );
    assert.equal(A.claimed.get(made.paymentHash), 21_000n);
  });

  test('nothing is reserved: no ledger row is booked', async () => {
    const before = await g.warden.store.db.selectFrom('ledger').selectAll().execute();
    await makeInvoice(alice, { amount_msat: '5000000', expiry_seconds: 86_400 });
    const after = await g.warden.store.db.selectFrom('ledger').selectAll().execute();
    for (const row of after.filter((r) => !before.some((b) => b.request_id === r.request_id)))
      assert.deepEqual([row.amount, row.fee], ['0', '0']);
  });

  test('hostile bodies: stable codes, nothing asked of the node', async () => {
    const asked = front.requests.length;
    const cases: [unknown, string][] = [
      [{}, 'INVALID_REQUEST'],
      [{ amount_msat: 21000 }, 'INVALID_AMOUNT'],
      [{ amount_msat: '0' }, 'INVALID_AMOUNT'],
      [{ amount_msat: '-1' }, 'INVALID_AMOUNT'],
      [{ amount_msat: '2100000000000000001' }, 'INVALID_AMOUNT'],
      [{ amount_msat: '1000', expiry_seconds: 0 }, 'INVALID_REQUEST'],
      [{ amount_msat: '1000', expiry_seconds: 86_401 }, 'INVALID_REQUEST'],
      [{ amount_msat: '1000', expiry_seconds: '600' }, 'INVALID_REQUEST'],
      [{ amount_msat: '1000', description: 'x'.repeat(640) }, 'INVALID_REQUEST'],
      [{ amount_msat: '1000', description: '\ud800' }, 'INVALID_REQUEST'],
      [{ amount_msat: '1000', description: 7 }, 'INVALID_REQUEST'],
      [{ amount_msat: '1000', private: false }, 'INVALID_REQUEST'],
    ];
    for (const [body, code] of cases) {
      const r = await alice('make-invoice', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${show(r)}`);
      assert.equal(r.body.error.code, code, JSON.stringify(body));
    }
    // 639 bytes of UTF-8 is the most a description holds: 213 three-byte characters.
    await makeInvoice(alice, { amount_msat: '1000', description: '€'.repeat(213) });
    assert.equal(front.requests.length, asked + 1);
  });

  test('judged by policy: an identity whose policy does not allow receiving is refused, the node not asked', async () => {
    const payonly = await agent('payonly');
    const asked = front.requests.length;
    const r = await payonly('make-invoice', { amount_msat: '1000' });
    assert.equal(r.status, 403, show(r));
    assert.match(r.body.error.code, /^(NO_MATCHING_RULE|POLICY_DENIED)$/);
    assert.equal(front.requests.length, asked);
  });

  test('a token without lightning:make_invoice cannot make one', async () => {
    const reader = await agent('alice', ['lightning:balance']);
    const r = await reader('make-invoice', { amount_msat: '1000' });
    assert.equal(r.status, 403, show(r));
    assert.equal(r.body.error.code, 'FORBIDDEN');
  });

  test('rate-limited like every operation', async () => {
    const limited = await agent('bob', ['lightning:make_invoice']);
    const results = [];
    for (let i = 0; i < 32; i++) results.push(await limited('make-invoice', { amount_msat: '1000' }));
    const refused = results.filter((r) => r.status === 429);
    assert.ok(refused.length >= 2, results.map(show).slice(-3).join('\n'));
    assert.equal(refused[0]?.body.error.code, 'RATE_LIMITED');
  });
});

describe('lightning.lookup_invoice', () => {
  const lookup = async (call: typeof alice, paymentHash: string) => {
    const r = await call('lookup-invoice', { payment_hash: paymentHash });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.body.request.status, 'done', show(r));
    return r.body.request.result;
  };

  test('open, then settled once B pays: the amount paid, when, and the preimage only then', async () => {
    const made = await makeInvoice(alice, { amount_msat: '42000', description: 'lookup' });
    const open = await lookup(alice, made.paymentHash);
    assert.deepEqual(
      { ...open },
      {
        paymentHash: made.paymentHash,
        state: 'open',
        amountMsat: '42000',
        bolt11: made.bolt11,
        description: 'lookup',
        createdAt: open.createdAt,
        expiresAt: made.expiresAt,
      },
    );
    assert.equal(open.preimage, undefined, 'no preimage before it is settled');
    // lnd (and the front) would tell it: Warden does not pass it on.
    const asked = front.answers.filter((a) => a.route === 'lookupinvoice').at(-1)?.json as {
      r_preimage: string;
    };
    assert.notEqual(asked.r_preimage, '');
    const before = Math.floor(Date.now() / 1000);
    const paid = await ln.pay('B', made.bolt11, 1_000n);
    assert.equal(paid.state, 'succeeded');
    const settled = await lookup(alice, made.paymentHash);
    assert.equal(settled.state, 'settled');
    assert.equal(settled.paidMsat, '42000');
    assert.ok(paid.state === 'succeeded' && settled.preimage === paid.preimage);
    assert.ok(Date.parse(settled.settledAt) >= (before - 1) * 1000, settled.settledAt);
  });

  test('accepted while the node holds the payment', async () => {
    const made = await makeInvoice(alice, { amount_msat: '7000' });
    A.holdIncoming = true;
    try {
      const paying = ln.pay('B', made.bolt11, 1_000n);
      const deadline = Date.now() + 10_000;
      while (!A.isHeld(made.paymentHash) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const held = await lookup(alice, made.paymentHash);
      assert.equal(held.state, 'accepted');
      assert.equal(held.preimage, undefined);
      assert.ok(A.release(made.paymentHash));
      assert.equal((await paying).state, 'succeeded');
    } finally {
      A.holdIncoming = false;
    }
    assert.equal((await lookup(alice, made.paymentHash)).state, 'settled');
  });

  test('canceled once expired', async () => {
    const made = await makeInvoice(alice, { amount_msat: '1000', expiry_seconds: 1 });
    await new Promise((r) => setTimeout(r, 2_100));
    assert.equal((await lookup(alice, made.paymentHash)).state, 'canceled');
  });

  test('another identity’s invoice on the same node, an invoice made without Warden, an unknown hash: all LIGHTNING_INVOICE_UNKNOWN, the node not asked, no row', async () => {
    const hers = await makeInvoice(alice, { amount_msat: '1000' });
    const direct = Buffer.from(A.invoice(1_000n, 'not through Warden', 600).payment_hash()).toString('hex');
    const asked = front.requests.length;
    const requests = async () =>
      (
        await g.warden.store.db
          .selectFrom('request')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const rows = await requests();
    for (const hash of [hers.paymentHash, direct, 'ab'.repeat(32)]) {
      const r = await bob('lookup-invoice', { payment_hash: hash });
      assert.equal(r.status, 404, show(r));
      assert.equal(r.body.error.code, 'LIGHTNING_INVOICE_UNKNOWN');
      assert.deepEqual(Object.keys(r.body.error.details).sort(), ['paymentHash', 'protocol']);
    }
    assert.equal(front.requests.length, asked);
    assert.equal(await requests(), rows);
    // Her own lookup is answered.
    assert.equal((await lookup(alice, hers.paymentHash)).state, 'open');
  });

  test('hostile bodies refused with stable codes', async () => {
    const cases: unknown[] = [
      {},
      { payment_hash: 'AB'.repeat(32) },
      { payment_hash: 'ab'.repeat(31) },
      { payment_hash: 'ab'.repeat(33) },
      { payment_hash: 7 },
      { payment_hash: 'ab'.repeat(32), extra: true },
      [],
    ];
    for (const body of cases) {
      const r = await alice('lookup-invoice', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${show(r)}`);
      assert.equal(r.body.error.code, 'INVALID_REQUEST');
    }
  });
});

describe('lightning.balance', () => {
  test('the node’s channel balance, as LDK counts it, marked as shared', async () => {
    const r = await alice('balance', {});
    assert.equal(r.status, 200, show(r));
    const result = r.body.request.result;
    const node = balanceJson(A);
    assert.equal(result.localMsat, node.local_balance.msat);
    assert.equal(result.remoteMsat, node.remote_balance.msat);
    assert.equal(result.unsettledLocalMsat, node.unsettled_local_balance.msat);
    assert.equal(result.pendingOpenLocalMsat, node.pending_open_local_balance.msat);
    assert.ok(BigInt(result.localMsat) > 0n && BigInt(result.remoteMsat) > 0n);
    assert.equal(result.shared, true);
    // What LDK itself says, summed here.
    const local = A.cm.list_channels().reduce((s, c) => s + c.get_outbound_capacity_msat(), 0n);
    assert.equal(result.localMsat, local.toString());
  });

  test('hostile bodies refused with INVALID_REQUEST', async () => {
    for (const body of [[], 'x', { extra: 1 }, { idempotencyKey: 'bad key!' }]) {
      const r = await alice('balance', body);
      assert.equal(r.status, 400, show(r));
      assert.equal(r.body.error.code, 'INVALID_REQUEST');
    }
  });
});

test('MCP (the official client): the reads are read-only, the invoice not destructive, keysend and pay destructive', async () => {
  const token = await g.token('agent', {
    identity: 'alice',
    capabilities: [...CAPABILITIES, 'lightning:keysend', 'lightning:pay_invoice'],
  });
  const client = await httpClient(g.url, token);
  const tools = (await client.listTools()).tools;
  const hints = Object.fromEntries(
    tools
      .filter((t) => t.name.startsWith('lightning_'))
      .map((t) => [t.name, [t.annotations?.readOnlyHint, t.annotations?.destructiveHint]]),
  );
  assert.deepEqual(hints, {
    lightning_balance: [true, false],
    lightning_lookup_invoice: [true, false],
    lightning_make_invoice: [false, false],
    lightning_keysend: [false, true],
    lightning_pay_invoice: [false, true],
  });
});
