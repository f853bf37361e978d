/**
 * bitcoin.new_address, bitcoin.balance and bitcoin.send against a real node: bcoin 1.0.2 on
 * regtest in this process, reached as an Esplora REST API (test/helpers/esplora.ts answers
 * Esplora's routes from the node's chain, mempool and address index) through Warden's net layer.
 * The identity's coins are coinbases mined to addresses Warden handed out; its sends enter the
 * node's mempool (looked up there, never taken on the broadcast's word) and are mined. The node,
 * the funding and the gateway are set up once for the file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, OutScript, p2wpkh, Transaction } from '@scure/btc-signer';
import { reconcileFromBackends } from '../../../src/gateway/reconcile-backends.ts';
import { bitcoinModuleConfig } from '../../../src/protocols/bitcoin/config.ts';
import { prefixesOf } from '../../../src/protocols/bitcoin/networks.ts';
import { startBitcoinNode } from '../../helpers/bitcoin-node.ts';
import { startEsplora } from '../../helpers/esplora.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { PAYEE, STRANGER } from './fixture.ts';

const REGTEST = prefixesOf('regtest');
const addressOf = (script: Uint8Array) => Address(REGTEST).encode(OutScript.decode(script));
const PAYEE_ADDRESS = addressOf(PAYEE);
const MINER = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/9").publicKey!).script;

/** Each send pays 100,000 sat; the 24 h window takes 10 of them with their fees, and no 11th. */
const AMOUNT = 100_000n;
/** 1 sat/vB over one P2WPKH input, a P2WPKH payee and P2WPKH change: 141 vB (weight 562). */
const FEE_AT_1 = 141n;
const CAP = 10n * (AMOUNT + FEE_AT_1) + 50n;
const POLICY = `
version: 1
name: regtest-sends
risk: { tolerance: high }
new_destination: allow
rules:
  - id: wallet-reads
    match: { protocol: bitcoin, action: [new_address, balance] }
    effect: allow
  - id: sends
    match: { protocol: bitcoin, action: send, asset: btc }
    effect: allow
    max_fee_rate: 20
    limits:
      - { window: 24h, max_value: ${CAP} }
`;

const node = await startBitcoinNode();
await node.activateSegwit(MINER);
const esplora = await startEsplora(node);
// A listening façade keeps the file's process alive after its last test.
const g = await startTestGateway({
  identities: ['alice'],
  policies: { alice: POLICY },
  protocols: {
    bitcoin: bitcoinModuleConfig(
      { nodes: { regtest: { api: 'esplora', url: esplora.url } }, min_confirmations: 2 },
      { tor: null, baseDir: '.' },
    ),
  },
  rateLimits: () => ({ max: 10_000, windowMs: 60_000 }),
});
const agent = await g.token('agent', {
  identity: 'alice',
  capabilities: ['bitcoin:send', 'bitcoin:new_address', 'bitcoin:balance'],
});
const call = (op: string, body: unknown = {}) => g.call('POST', `/v1/bitcoin/${op}`, { token: agent, body });

async function newAddress(type?: 'p2wpkh' | 'p2tr'): Promise<string> {
  const r = await call('new-address', type ? { type } : {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.request.result.address as string;
}

/** Coinbases to four of alice's addresses, matured (100 blocks) and confirmed. */
const funded: string[] = [];
for (let i = 0; i < 4; i++) funded.push(await newAddress());
for (const a of funded) await node.mine(1, OutScript.encode(Address(REGTEST).decode(a)));
await node.mine(101, MINER);

async function balance() {
  const r = await call('balance');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.request.result as Record<string, string | number>;
}

describe('bitcoin wallet operations on a real regtest node (bcoin behind an Esplora API)', () => {
  test('new_address: never the same address twice, with its BIP-84/86 path; the gap limit is 20 unused', async () => {
    const a = await newAddress();
    const b = await newAddress();
    const t = await newAddress('p2tr');
    assert.notEqual(a, b);
    assert.match(a, /^bcrt1q[a-z0-9]{38}$/);
    assert.match(t, /^bcrt1p[a-z0-9]{58}$/);
    const r = await call('new-address', { type: 'p2sh' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'INVALID_REQUEST');
    // 4 funded (used once the balance saw them) + a, b unused: 18 more reach the limit of 20.
    await balance();
    for (let i = 0; i < 18; i++) await newAddress();
    const refused = await call('new-address');
    assert.equal(
      refused.body.error?.code ?? refused.body.request?.error?.code,
      'ADDRESS_GAP_LIMIT',
      JSON.stringify(refused.body),
    );
  });

  test('balance: the matured coinbases are spendable, by confirmation depth', async () => {
    const b = await balance();
    assert.equal(b.network, 'regtest');
    assert.equal(b.minConfirmations, 2);
    assert.equal(b.coins, 4);
    assert.ok(BigInt(b.spendableSat as string) > 0n);
    assert.equal(b.unconfirmedSat, '0');
  });

  test('balance at a depth of its own: deeper reads less as spendable; shallower than configured is refused', async () => {
    const tip = node.height();
    const deep = await call('balance', { min_confirmations: 1000 });
    assert.equal(deep.status, 200, JSON.stringify(deep.body));
    assert.equal(deep.body.request.result.minConfirmations, 1000);
    // Nothing here is 1,000 blocks deep unless the chain is: the coins count as confirming instead.
    const b = await balance();
    const deepSpendable = BigInt(deep.body.request.result.spendableSat);
    assert.ok(deepSpendable <= BigInt(b.spendableSat as string));
    if (tip < 1000) assert.equal(deepSpendable, 0n);
    assert.equal(
      BigInt(deep.body.request.result.spendableSat) + BigInt(deep.body.request.result.confirmingSat),
      BigInt(b.spendableSat as string) + BigInt(b.confirmingSat as string),
      'the same coins, counted at another depth',
    );
    for (const [body, code] of [
      [{ min_confirmations: 1 }, 'INVALID_REQUEST'],
      [{ min_confirmations: 0 }, 'INVALID_REQUEST'],
      [{ min_confirmations: 2.5 }, 'INVALID_REQUEST'],
      [{ min_confirmations: '6' }, 'INVALID_REQUEST'],
      [{ depth: 6 }, 'INVALID_REQUEST'],
    ] as const) {
      const r = await call('balance', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code);
    }
  });

  test('send: built, judged, signed, found in the mempool, mined; change to a fresh internal address, RBF, anti-fee-sniping', async () => {
    const r = await call('send', { to: PAYEE_ADDRESS, amount_sat: AMOUNT.toString(), feerate: '1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const result = r.body.request.result;
    assert.equal(result.fee, FEE_AT_1.toString());
    const entry = await node.rpc('getmempoolentry', [result.txid]);
    assert.ok(entry, 'in the node mempool');
    const tx = Transaction.fromRaw(await node.rawTransaction(result.txid), { allowUnknownOutputs: true });
    const tip = node.height();
    assert.ok(tx.lockTime <= tip && tx.lockTime >= tip - 100, `locktime ${tx.lockTime} near tip ${tip}`);
    assert.equal(tx.getInput(0).sequence, 0xfffffffd);
    const outputs = Array.from({ length: tx.outputsLength }, (_, i) => tx.getOutput(i));
    const paid = outputs.find((o) => addressOf(o.script!) === PAYEE_ADDRESS);
    assert.equal(paid?.amount, AMOUNT);
    const change = outputs.find((o) => addressOf(o.script!) === result.change.address);
    assert.ok(change, 'a change output to the recorded internal address');
    assert.ok(result.change.address.startsWith('bcrt1q'));
    // The fee is inputs less outputs, as the node sees it.
    assert.equal(BigInt(Math.round(Number(entry.fee) * 1e8)), FEE_AT_1);
    const mined = await node.confirm(result.txid, MINER);
    assert.equal(mined.confirmations, 1);
  });

  test('no fee rate and no estimate from the node: refused before anything is reserved', async () => {
    const r = await call('send', { to: PAYEE_ADDRESS, amount_sat: AMOUNT.toString() });
    assert.equal(r.body.error.code, 'FEE_ESTIMATE_UNAVAILABLE', JSON.stringify(r.body));
    esplora.faults.feeEstimates = { '2': '9.5', '6': '2.001', '25': '1' };
    const ok = await call('send', { to: PAYEE_ADDRESS, amount_sat: AMOUNT.toString() });
    delete esplora.faults.feeEstimates;
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // 2.001 sat/vB for 6 blocks, rounded up over 141 vB: 283 sat.
    assert.equal(ok.body.request.result.feeRateMsatPerVb, '2001');
    assert.equal(ok.body.request.result.fee, '283');
    await node.confirm(ok.body.request.result.txid, MINER);
  });

  test('hostile bodies: wrong network, dust, mixed case, both forms, float amounts: refused with their code', async () => {
    const cases: [unknown, string][] = [
      [
        { to: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', amount_sat: '1000', feerate: '1' },
        'INVALID_ADDRESS',
      ],
      [{ to: PAYEE_ADDRESS, amount_sat: '100', feerate: '1' }, 'DUST_OUTPUT'],
      [
        {
          to: PAYEE_ADDRESS.slice(0, 8).toUpperCase() + PAYEE_ADDRESS.slice(8),
          amount_sat: '1000',
          feerate: '1',
        },
        'INVALID_ADDRESS',
      ],
      [{ to: PAYEE_ADDRESS, amount_sat: '1000', outputs: [] }, 'INVALID_REQUEST'],
      [{ to: PAYEE_ADDRESS, amount_sat: 1000 }, 'INVALID_AMOUNT'],
      [{ to: PAYEE_ADDRESS, amount_sat: '1000', feerate: '0.5' }, 'INVALID_REQUEST'],
      [{ to: PAYEE_ADDRESS, amount_sat: '1000', feerate: 2 }, 'INVALID_REQUEST'],
      [{ to: PAYEE_ADDRESS, amount_sat: '99999999999999999', feerate: '1' }, 'INVALID_AMOUNT'],
    ];
    for (const [body, code] of cases) {
      const r = await call('send', body);
      assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(body)} → ${r.status}`);
      assert.equal(r.body.error.code, code, JSON.stringify({ body, got: r.body.error }));
    }
  });

  test('a backend lying about an amount gets no signature: the coin is proven by its transaction', async () => {
    esplora.faults.utxoValueLie = 1_000n;
    const r = await call('send', { to: PAYEE_ADDRESS, amount_sat: AMOUNT.toString(), feerate: '1' });
    delete esplora.faults.utxoValueLie;
    assert.equal(r.body.error.code, 'BACKEND_REJECTED', JSON.stringify(r.body));
    assert.equal(r.body.error.details.request.status, 'failed');
    assert.equal(r.body.error.details.reason ?? 'coin_unproven', 'coin_unproven');
    assert.equal((await node.rpc('getrawmempool')).length, 0);
  });

  test('a lost broadcast stays unknown, and reconcile sends the same signed bytes again and commits', async () => {
    esplora.faults.dropBroadcasts = true;
    const r = await call('send', { to: PAYEE_ADDRESS, amount_sat: AMOUNT.toString(), feerate: '1' });
    esplora.faults.dropBroadcasts = false;
    const request = r.body.request;
    assert.equal(request.status, 'unknown', JSON.stringify(r.body));
    assert.deepEqual(await node.rpc('getrawmempool'), []);
    const verdicts = await reconcileFromBackends(g.warden, g.gateway.operations);
    const mine = verdicts.find((v) => v.requestId === request.requestId);
    assert.equal(mine?.verdict, 'commit', JSON.stringify(verdicts));
    assert.deepEqual(await node.rpc('getrawmempool'), [request.result.txid]);
    await node.mine(2, MINER);
  });
});

/** Twelve matured coinbases to one address of `identity`: coins enough for ten sends at once. */
async function fundTwelve(address: string): Promise<void> {
  await node.mine(12, OutScript.encode(Address(REGTEST).decode(address)));
  await node.mine(101, MINER);
}

describe('the budget of bitcoin sends is exact under concurrency', () => {
  test('1,000 concurrent sends against a window of ten (fees included): exactly ten, no coin spent twice', async () => {
    const c = await startTestGateway({
      identities: ['bob'],
      policies: { bob: POLICY },
      protocols: {
        bitcoin: bitcoinModuleConfig(
          { nodes: { regtest: { api: 'esplora', url: esplora.url } } },
          { tor: null, baseDir: '.' },
        ),
      },
      rateLimits: () => ({ max: 10_000, windowMs: 60_000 }),
    });
    const token = await c.token('agent', {
      identity: 'bob',
      capabilities: ['bitcoin:send', 'bitcoin:new_address'],
    });
    const post = (op: string, body: unknown) => c.call('POST', `/v1/bitcoin/${op}`, { token, body });
    await fundTwelve((await post('new-address', {})).body.request.result.address);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        post('send', {
          to: PAYEE_ADDRESS,
          amount_sat: AMOUNT.toString(),
          feerate: '1',
          idempotencyKey: `c-${i}`,
        }),
      ),
    );
    const ms = Math.round(performance.now() - started);
    const done = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 403);
    assert.equal(
      done.length,
      10,
      `${ms} ms; ${JSON.stringify(results.find((r) => r.status !== 200 && r.status !== 403)?.body)}`,
    );
    assert.equal(refused.length, 990);
    assert.ok(refused.every((r) => r.body.error.code === 'LIMIT_EXCEEDED'));
    const txids = done.map((r) => r.body.request.result.txid as string);
    const mempool = new Set(await node.rpc('getrawmempool'));
    assert.ok(
      txids.every((t) => mempool.has(t)),
      'every send is in the node mempool',
    );
    const inputs = done.flatMap((r) => r.body.request.result.inputs as string[]);
    assert.equal(new Set(inputs).size, inputs.length, 'no coin in two sends');
    const ledger = await c.call('GET', '/v1/ledger', { token });
    const committed = ledger.body.totals.filter(
      (t: { status: string; asset: string }) => t.status === 'committed' && t.asset === 'btc',
    );
    // Fees are money: the window holds the amounts and the fees, exactly.
    assert.deepEqual(
      committed.map((t: { total: string; fees: string; count: number }) => [t.total, t.fees, t.count]),
      [[(10n * AMOUNT).toString(), (10n * FEE_AT_1).toString(), 10]],
    );
    await node.mine(2, MINER);
  });
});
