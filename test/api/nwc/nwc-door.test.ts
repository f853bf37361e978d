/**
 * The NWC door end to end: Warden as the NIP-47 wallet service of connections made like
 * `warden nwc connect`, over a real relay on loopback (@nostr-relay/core), paying real invoices
 * through the LND REST front over real LDK nodes A–B on a bcoin regtest chain, driven by two
 * unmodified clients (@getalby/sdk NWCClient, applesauce-wallet-connect) and, for what a client
 * would never send (an expired request, a replay, another author, NIP-04), by events signed here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { type Event, finalizeEvent, getPublicKey } from 'nostr-tools';
import * as nip04 from 'nostr-tools/nip04';
import { v2 as nip44 } from 'nostr-tools/nip44';
import WebSocket from 'ws';
import { NwcDoor } from '../../../src/api/nwc/door.ts';
import { principalOf } from '../../../src/api/nwc/principal.ts';
import { connectionSpec } from '../../../src/api/nwc/spec.ts';
import { lightningModuleConfig } from '../../../src/protocols/lightning/config.ts';
import { startLightningNodes } from '../../helpers/ldk-node.ts';
import { lightningPayPolicy } from '../../helpers/lightning-gateway.ts';
import {
  invoiceOf as invoiceOfPeer,
  startLightningGateway,
  startLndFrontOver,
} from '../../helpers/lightning-setup.ts';
import { startTestRelay } from '../../helpers/nostr-relay.ts';
import { applesauceClient, NWCClient } from '../../helpers/nwc-clients.ts';

const ln = await startLightningNodes(['A', 'B'], [['A', 'B', 1_000_000n]]);
const [A, B] = [ln.node('A'), ln.node('B')];
const { macaroon, front } = await startLndFrontOver(ln, A);
const relay = await startTestRelay();

/** The identity may pay 60,000 sat a day in all; a payment over 40,000 sat waits for an operator. */
const POLICY = `
version: 1
name: nwc-agent
risk: { tolerance: high }
new_destination: allow
rules:
  - id: big-payments
    match: { protocol: lightning, action: pay, asset: btc, amount: { min: 40001 } }
    effect: hold
    approvals: 1
  - id: payments
    match: { protocol: lightning, action: pay, asset: btc }
    effect: allow
    limits:
      - { window: 24h, max_value: 60000 }
  - id: receive-and-read
    match: { protocol: lightning, action: [receive, read] }
    effect: allow
`;

/** For the burst: 8,000 sat a day for the identity, whatever its connections' own budgets. */
const BURST_POLICY = lightningPayPolicy('nwc-burst', { cap: 8_000n });

const g = await startLightningGateway({
  identities: ['agent', 'burst'],
  policies: { agent: POLICY, burst: BURST_POLICY },
  lightning: lightningModuleConfig(
    { backend: 'lnd', url: front.url, timeout_seconds: 30, wait_seconds: 40 },
    { tor: null },
  ),
  credential: { kind: 'macaroon', bytes: macaroon },
  nwc: { via: 'direct', socks: null, allowLoopback: true },
});
const logged: string[] = [];
const door = new NwcDoor(g.gateway, {
  relays: [relay.url],
  log: (message) => logged.push(message),
});
await door.start();
after(async () => {
  door.close();
  await relay.close();
});

const admin = g.gateway.access.localOperator('cli:test');

async function connect(options: {
  budget: string;
  methods?: string;
  holdWait?: number;
  nip04?: boolean;
  identity?: string;
}) {
  const spec = connectionSpec({
    identity: options.identity ?? 'agent',
    label: 'test',
    methods: options.methods ?? 'pay_invoice,get_info,get_budget',
    budget: options.budget,
    relays: [relay.url],
    holdWaitSeconds: options.holdWait ?? 0,
    nip04: options.nip04 ?? false,
  });
  const { connection, clientSecretHex } = await g.gateway.nwc.create(admin, spec);
  await door.refresh();
  const uri = `nostr+walletconnect://${connection.servicePubkey}?relay=${encodeURIComponent(relay.url)}&secret=${clientSecretHex}`;
  return { connection, secret: hexToBytes(clientSecretHex), uri };
}

/** An invoice of B's for `sat`. */
const invoiceOf = (sat: bigint) => invoiceOfPeer(B, sat * 1000n, 'nwc test');

/** A request event as a client would sign it, with the tags given (NIP-44 unless `nip04`). */
function requestEvent(
  secret: Uint8Array,
  servicePubkey: string,
  body: unknown,
  o: { tags?: string[][]; nip04?: boolean; createdAt?: number } = {},
): Event {
  const text = JSON.stringify(body);
  const content = o.nip04
    ? nip04.encrypt(secret, servicePubkey, text)
    : nip44.encrypt(text, nip44.utils.getConversationKey(secret, servicePubkey));
  return finalizeEvent(
    {
      kind: 23194,
      created_at: o.createdAt ?? Math.floor(Date.now() / 1000),
      tags: [['p', servicePubkey], ...(o.nip04 ? [] : [['encryption', 'nip44_v2']]), ...(o.tags ?? [])],
      content,
    },
    secret,
  );
}

/** Publishes events to the relay as a bare client would, and waits for the relay's OK. */
async function publish(...events: Event[]): Promise<void> {
  const ws = new WebSocket(relay.url);
  await new Promise((resolve) => ws.once('open', resolve));
  for (const event of events) {
    const ok = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        if (m[0] === 'OK' && m[1] === event.id) resolve();
      }),
    );
    ws.send(JSON.stringify(['EVENT', event]));
    await ok;
  }
  ws.close();
}

const responsesTo = (id: string) =>
  relay.received.filter((e) => e.kind === 23195 && e.tags.some((t) => t[0] === 'e' && t[1] === id));

async function decryptedResponse(secret: Uint8Array, servicePubkey: string, id: string, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  while (responsesTo(id).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const [response] = responsesTo(id);
  assert.ok(response, `no response to ${id}; door log: ${logged.join(' | ')}`);
  return JSON.parse(nip44.decrypt(response.content, nip44.utils.getConversationKey(secret, servicePubkey)));
}

const requestsOf = (connectionId: string) =>
  g.warden.store.db.selectFrom('request').selectAll().where('token_id', '=', connectionId).execute();

describe('NWC door (NIP-47) over a real relay, paying through LND REST over LDK', () => {
  test('the Alby client: info event, get_info, a real payment with its preimage, payment_sent, get_budget', async () => {
    const { connection, uri } = await connect({ budget: '50000sat/day' });
    const client = new NWCClient({ nostrWalletConnectUrl: uri });
    try {
      const info = await client.getWalletServiceInfo();
      assert.deepEqual(info.encryptions, ['nip44_v2']);
      assert.deepEqual(info.capabilities.sort(), ['get_budget', 'get_info', 'notifications', 'pay_invoice']);
      const got = await client.getInfo();
      assert.deepEqual(got.methods, ['pay_invoice', 'get_info', 'get_budget']);
      const notifications: unknown[] = [];
      const unsubscribe = await client.subscribeNotifications((n) => notifications.push(n));
      const { bolt11, hash } = invoiceOf(1_500n);
      const paid = await client.payInvoice({ invoice: bolt11 });
      assert.equal(bytesToHex(sha256(hexToBytes(paid.preimage))), hash);
      assert.equal(B.claimed.get(hash), 1_500_000n);
      const deadline = Date.now() + 10_000;
      while (notifications.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      unsubscribe();
      assert.equal((notifications[0] as { notification_type: string }).notification_type, 'payment_sent');
      assert.equal(
        (notifications[0] as { notification: { payment_hash: string } }).notification.payment_hash,
        hash,
      );
      const budget = await client.getBudget();
      assert.equal((budget as { total_budget: number }).total_budget, 50_000_000);
      // 1,500 sat and the routing fee (none over one hop), in msat as NIP-47 counts.
      assert.equal((budget as { used_budget: number }).used_budget, 1_500_000);
      assert.equal((budget as { renewal_period: string }).renewal_period, 'daily');
      // The request is the connection's, audited as such: the principal facet tags its ledger entry.
      const [row] = await requestsOf(connection.id);
      assert.equal(row?.status, 'done');
      const entry = await g.warden.store.db
        .selectFrom('ledger')
        .select(['facets', 'amount'])
        .where('request_id', '=', row!.id)
        .executeTakeFirstOrThrow();
      assert.equal(JSON.parse(entry.facets).principal, connection.id);
    } finally {
      client.close();
    }
  });

  test('a connection’s own budget: the payment that would pass it is QUOTA_EXCEEDED, nothing paid', async () => {
    const { connection, uri } = await connect({ budget: '2000sat/day' });
    const client = new NWCClient({ nostrWalletConnectUrl: uri });
    try {
      await client.payInvoice({ invoice: invoiceOf(1_500n).bolt11 });
      const { bolt11, hash } = invoiceOf(1_000n);
      await assert.rejects(
        client.payInvoice({ invoice: bolt11 }),
        (err: { code?: string; message?: string }) => {
          assert.equal(err.code, 'QUOTA_EXCEEDED', err.message);
          assert.match(String(err.message), /^LIMIT_EXCEEDED: .*principal:nwc_/);
          return true;
        },
      );
      assert.equal(B.claimed.get(hash), undefined);
      const statuses = (await requestsOf(connection.id)).map((r) => r.status).sort();
      assert.deepEqual(statuses, ['denied', 'done']);
      const budget = (await client.getBudget()) as {
        used_budget: number;
        renews_at: number;
        renewal_period: string;
      };
      assert.equal(budget.used_budget, 1_500_000);
      assert.equal(budget.renewal_period, 'daily');
      assert.equal(budget.renews_at % 86_400, 0);
    } finally {
      client.close();
    }
  });

  test('applesauce-wallet-connect: pays a real invoice, its budget exhausted, makes an invoice, reads the balance', async () => {
    const { uri } = await connect({ budget: '5000sat/week' });
    const { client, close } = applesauceClient(uri);
    try {
      const { bolt11, hash } = invoiceOf(700n);
      const paid = await client.payInvoice(bolt11);
      assert.equal(bytesToHex(sha256(hexToBytes(paid.preimage))), hash);
      assert.equal(B.claimed.get(hash), 700_000n);
      await assert.rejects(client.request('get_balance' as never, {} as never), /RESTRICTED|may not call/);
      // Its budget (5,000 sat a week) holds 700 + 10 sat of fee limit booked at most: 4,500 more is over.
      await assert.rejects(client.payInvoice(invoiceOf(4_500n).bolt11), /QUOTA_EXCEEDED|LIMIT_EXCEEDED/);
    } finally {
      close();
    }
    const receiving = await connect({ budget: '5000sat/day', methods: 'make_invoice,get_balance' });
    const second = applesauceClient(receiving.uri);
    try {
      const made = await second.client.makeInvoice(1_234_000, { description: 'applesauce' });
      assert.equal(made.amount, 1_234_000);
      assert.match(made.invoice ?? '', /^lnbcrt/);
      const { balance } = await second.client.getBalance();
      assert.ok(Number.isSafeInteger(balance) && balance > 0, String(balance));
    } finally {
      second.close();
    }
  });

  test('a replayed request event is answered once and paid once', async () => {
    const { connection, secret } = await connect({ budget: '5000sat/day' });
    const { bolt11, hash } = invoiceOf(400n);
    const event = requestEvent(secret, connection.servicePubkey, {
      method: 'pay_invoice',
      params: { invoice: bolt11 },
    });
    await publish(event, event);
    const answer = await decryptedResponse(secret, connection.servicePubkey, event.id);
    assert.equal(answer.result_type, 'pay_invoice');
    assert.equal(answer.error, null);
    await publish(event);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(responsesTo(event.id).length, 1);
    assert.equal((await requestsOf(connection.id)).length, 1);
    assert.equal(B.claimed.get(hash), 400_000n);
  });

  test('an expired request (its expiration tag is past) is ignored: no answer, no request', async () => {
    const { connection, secret } = await connect({ budget: '5000sat/day' });
    const event = requestEvent(
      secret,
      connection.servicePubkey,
      { method: 'pay_invoice', params: { invoice: invoiceOf(300n).bolt11 } },
      { tags: [['expiration', String(Math.floor(Date.now() / 1000) - 1)]] },
    );
    const stale = requestEvent(
      secret,
      connection.servicePubkey,
      { method: 'get_info', params: {} },
      { createdAt: Math.floor(Date.now() / 1000) - 3600 },
    );
    await publish(event, stale);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(responsesTo(event.id).length, 0);
    assert.equal(responsesTo(stale.id).length, 0);
    assert.equal((await requestsOf(connection.id)).length, 0);
  });

  test('a revoked connection is UNAUTHORIZED at once; another author is too, and nothing runs', async () => {
    const { connection, secret, uri } = await connect({ budget: '5000sat/day' });
    const client = new NWCClient({ nostrWalletConnectUrl: uri });
    try {
      await client.getInfo();
      await g.gateway.nwc.revoke(admin, connection.id);
      await assert.rejects(
        client.payInvoice({ invoice: invoiceOf(300n).bolt11 }),
        (err: { code?: string }) => {
          assert.equal(err.code, 'UNAUTHORIZED');
          return true;
        },
      );
    } finally {
      client.close();
    }
    const other = await connect({ budget: '5000sat/day' });
    const stranger = randomBytes(32);
    const event = requestEvent(stranger, other.connection.servicePubkey, { method: 'get_info', params: {} });
    await publish(event);
    const answer = await decryptedResponse(stranger, other.connection.servicePubkey, event.id);
    assert.equal(answer.error.code, 'UNAUTHORIZED');
    assert.equal((await requestsOf(connection.id)).length, 0);
    assert.ok(secret.length === 32 && getPublicKey(secret) === connection.clientPubkey);
  });

  test('NIP-04 only for a connection that opted in; a method not given is RESTRICTED', async () => {
    const plain = await connect({ budget: '5000sat/day' });
    const refused = requestEvent(
      plain.secret,
      plain.connection.servicePubkey,
      { method: 'get_info', params: {} },
      { nip04: true },
    );
    await publish(refused);
    const answer = await decryptedResponse(plain.secret, plain.connection.servicePubkey, refused.id);
    assert.equal(answer.error.code, 'UNSUPPORTED_ENCRYPTION');

    const legacy = await connect({ budget: '5000sat/day', nip04: true, methods: 'get_info' });
    const asked = requestEvent(
      legacy.secret,
      legacy.connection.servicePubkey,
      { method: 'get_info', params: {} },
      { nip04: true },
    );
    await publish(asked);
    const deadline = Date.now() + 10_000;
    while (responsesTo(asked.id).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const [response] = responsesTo(asked.id);
    assert.ok(response);
    const body = JSON.parse(nip04.decrypt(legacy.secret, legacy.connection.servicePubkey, response.content));
    assert.deepEqual(body.result.methods, ['get_info']);

    const pay = requestEvent(
      legacy.secret,
      legacy.connection.servicePubkey,
      { method: 'pay_invoice', params: { invoice: 'x' } },
      { nip04: true },
    );
    await publish(pay);
    while (responsesTo(pay.id).length === 0 && Date.now() < deadline + 10_000)
      await new Promise((r) => setTimeout(r, 50));
    const denied = JSON.parse(
      nip04.decrypt(legacy.secret, legacy.connection.servicePubkey, responsesTo(pay.id)[0]!.content),
    );
    assert.equal(denied.error.code, 'RESTRICTED');
  });

  test('a held payment answers that it waits for an operator; approved and paid, payment_sent follows', async () => {
    const { connection, uri } = await connect({ budget: '100000sat/day', holdWait: 1 });
    const client = new NWCClient({ nostrWalletConnectUrl: uri });
    try {
      const notifications: { notification_type: string; notification: { payment_hash: string } }[] = [];
      const unsubscribe = await client.subscribeNotifications((n) => notifications.push(n as never));
      const { bolt11, hash } = invoiceOf(45_000n);
      await assert.rejects(
        client.payInvoice({ invoice: bolt11 }),
        (err: { code?: string; message?: string }) => {
          assert.equal(err.code, 'RESTRICTED');
          assert.match(String(err.message), /held for an operator's approval/);
          return true;
        },
      );
      const [held] = await requestsOf(connection.id);
      assert.equal(held?.status, 'held');
      const operator = g.gateway.access.localOperator('cli:approver');
      await g.gateway.approvals.decide(operator, held!.id, 'approve', 'test', held!.intent_hash);
      const deadline = Date.now() + 30_000;
      while (notifications.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      unsubscribe();
      assert.equal(notifications[0]?.notification_type, 'payment_sent', logged.join(' | '));
      assert.equal(notifications[0]?.notification.payment_hash, hash);
      assert.equal(B.claimed.get(hash), 45_000_000n);
    } finally {
      client.close();
    }
  });

  test('a burst through two connections: neither passes its own budget, both together not the identity’s', async () => {
    const one = await connect({ identity: 'burst', budget: '5000sat/day' });
    const two = await connect({ identity: 'burst', budget: '5000sat/day' });
    const N = 150;
    const pay = (c: typeof one, i: number) =>
      g.gateway.requests
        .submit(principalOf(c.connection), 'lightning.pay_invoice', {
          invoice: invoiceOf(100n).bolt11,
          idempotencyKey: `burst-${c.connection.id}-${i}`,
        })
        .then(
          (view) => view.status,
          (err: { code?: string }) => `refused ${err.code}`,
        );
    const outcomes = await Promise.all([
      ...Array.from({ length: N }, (_, i) => pay(one, i)),
      ...Array.from({ length: N }, (_, i) => pay(two, i)),
    ]);
    const tally = (status: string) => outcomes.filter((o) => o === status).length;
    assert.equal(
      tally('done') + tally('denied') + tally('failed'),
      2 * N,
      JSON.stringify(outcomes.slice(0, 5)),
    );
    assert.ok(tally('denied') > 0 && tally('done') > 0);
    const spent = async (connectionId?: string) => {
      let q = g.warden.store.db
        .selectFrom('ledger')
        .innerJoin('request', 'request.id', 'ledger.request_id')
        .select(['ledger.amount', 'ledger.fee', 'ledger.status'])
        .where('ledger.identity', '=', 'burst');
      if (connectionId) q = q.where('request.token_id', '=', connectionId);
      const rows = await q.execute();
      assert.ok(rows.every((r) => r.status === 'committed' || r.status === 'released'));
      return rows
        .filter((r) => r.status === 'committed')
        .reduce((t, r) => t + BigInt(r.amount) + BigInt(r.fee), 0n);
    };
    const [a, b, all] = [await spent(one.connection.id), await spent(two.connection.id), await spent()];
    assert.ok(a <= 5_000n && b <= 5_000n, `${a} ${b}`);
    assert.ok(all <= 8_000n, String(all));
    assert.equal(all, a + b);
    // Denials name whichever budget was full: a connection's own, or the identity's.
    const rules = new Set(
      (
        await g.warden.store.db
          .selectFrom('request')
          .select('decision')
          .where('identity', '=', 'burst')
          .where('status', '=', 'denied')
          .execute()
      ).map((r) => JSON.parse(r.decision).decidingRule as string),
    );
    assert.ok(
      [...rules].every((r) => r === 'payments' || r.startsWith('principal:nwc_')),
      [...rules].join(),
    );
  });

  test('hostile request contents: each answered with a NIP-47 error, nothing run, the door still answers', async () => {
    const { connection, secret } = await connect({ budget: '5000sat/day' });
    const key = nip44.utils.getConversationKey(secret, connection.servicePubkey);
    const sign = (content: string) =>
      finalizeEvent(
        {
          kind: 23194,
          created_at: Math.floor(Date.now() / 1000),
          tags: [
            ['p', connection.servicePubkey],
            ['encryption', 'nip44_v2'],
          ],
          content,
        },
        secret,
      );
    const texts = [
      ...fc.sample(fc.json(), { numRuns: 12, seed: 47 }),
      '{"method":"pay_invoice","params":[1,2]}',
      '{"method":7}',
      `{"method":"${'x'.repeat(100)}"}`,
      '{"method":"pay_invoice","params":{"invoice":"lnbc1notaninvoice","amount":-5}}',
      '{"method":"pay_invoice","params":{"invoice":"lnbc1notaninvoice"}}',
      '{"method":"make_invoice","params":{"amount":1000}}',
    ];
    const events = [...texts.map((t) => sign(nip44.encrypt(t, key))), sign('not a payload at all'), sign('')];
    await publish(...events);
    for (const event of events) {
      const answer = await decryptedResponse(secret, connection.servicePubkey, event.id);
      assert.equal(answer.result, null, JSON.stringify(answer));
      assert.ok(
        ['OTHER', 'NOT_IMPLEMENTED', 'RESTRICTED'].includes(answer.error.code),
        JSON.stringify(answer),
      );
    }
    assert.equal((await requestsOf(connection.id)).length, 0);
    const alive = requestEvent(secret, connection.servicePubkey, { method: 'get_info', params: {} });
    await publish(alive);
    assert.deepEqual((await decryptedResponse(secret, connection.servicePubkey, alive.id)).result.methods, [
      'pay_invoice',
      'get_info',
      'get_budget',
    ]);
  });

  test("rotating an identity's circuits reopens its relay socket (on the new circuits); the door still answers", async () => {
    const { uri } = await connect({ budget: '1000sat/day' });
    const before = relay.connections;
    await g.gateway.circuits.rotate('agent');
    const deadline = Date.now() + 10_000;
    while (relay.connections === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      relay.connections,
      before + 1,
      "the agent's relay socket was opened anew, the burst identity's not",
    );
    const client = new NWCClient({ nostrWalletConnectUrl: uri });
    try {
      assert.deepEqual((await client.getInfo()).methods, ['pay_invoice', 'get_info', 'get_budget']);
    } finally {
      client.close();
    }
  });

  test('receiving: make_invoice, the payer pays it, payment_received, lookup_invoice settled; get_balance', async () => {
    const { uri } = await connect({
      budget: '5000sat/day',
      methods: 'make_invoice,lookup_invoice,get_balance',
    });
    const client = new NWCClient({ nostrWalletConnectUrl: uri });
    let unsubscribe = () => {};
    try {
      const info = await client.getWalletServiceInfo();
      assert.deepEqual(info.notifications.sort(), ['payment_received', 'payment_sent']);
      const received: { notification_type: string; notification: Record<string, unknown> }[] = [];
      unsubscribe = await client.subscribeNotifications((n) => received.push(n as never));
      const before = (await client.getBalance()).balance;
      const made = await client.makeInvoice({ amount: 2_000_000, description: 'for the agent', expiry: 300 });
      assert.equal(made.type, 'incoming');
      assert.equal(made.amount, 2_000_000);
      assert.equal(made.description, 'for the agent');
      assert.match(made.invoice, /^lnbcrt/);
      const paid = await ln.pay('B', made.invoice, 10_000n);
      assert.equal(paid.state, 'succeeded', String(paid.state));
      const deadline = Date.now() + 20_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(received[0]?.notification_type, 'payment_received', logged.join(' | '));
      assert.equal(received[0]?.notification.payment_hash, made.payment_hash);
      const looked = await client.lookupInvoice({ payment_hash: made.payment_hash });
      assert.equal(looked.state, 'settled');
      assert.equal(bytesToHex(sha256(hexToBytes(looked.preimage))), made.payment_hash);
      // The node's spendable balance grew by what B paid (A's channel balance, msat).
      assert.equal((await client.getBalance()).balance - before, 2_000_000);
    } finally {
      unsubscribe();
      client.close();
    }
  });
});
