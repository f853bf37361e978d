/**
 * The fee caps relative to the node's estimate and to the amount, and the risk rows that follow
 * the real facts, against a real node: bcoin 1.0.2 on regtest behind an Esplora API
 * (test/helpers/esplora.ts, answering from the node's chain, mempool and address index). bcoin's
 * regtest has no fee estimates: the façade serves the ones a test sets (`faults.feeEstimates`),
 * and none otherwise, as the node has none; the mempool's size is the node's own unless a test
 * makes it congested (`faults.mempoolCount`). Coins, depths, payees and the ledger are real.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, OutScript, p2wpkh } from '@scure/btc-signer';
import { bitcoinModuleConfig } from '../../../src/protocols/bitcoin/config.ts';
import { prefixesOf } from '../../../src/protocols/bitcoin/networks.ts';
import { startBitcoinNode } from '../../helpers/bitcoin-node.ts';
import { startEsplora } from '../../helpers/esplora.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { PAYEE, STRANGER } from './fixture.ts';
import { identityPsbt } from './identity-psbt.ts';

const REGTEST = prefixesOf('regtest');
const addressOf = (script: Uint8Array) => Address(REGTEST).encode(OutScript.decode(script));
const scriptOf = (address: string) => OutScript.encode(Address(REGTEST).decode(address));
const PAYEE_ADDRESS = addressOf(PAYEE);
const MINER = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/9").publicKey!).script;

/** Twice the next-block estimate, and a fee of at most 5% of the amount. */
const POLICY = `
version: 1
name: fee-caps
risk: { tolerance: high }
rules:
  - id: wallet-reads
    match: { protocol: bitcoin, action: [new_address, balance] }
    effect: allow
  - id: payments
    match: { protocol: bitcoin, action: [send, sign_psbt], asset: btc }
    effect: allow
    max_fee_rate_estimate_pct: 200
    max_fee_share_bps: 500
`;
/** Next block 2 sat/vB (the caps' reference), 6 blocks 1.5 (a send's default rate). */
const CALM = { '1': '2', '6': '1.5', '25': '1' };

const node = await startBitcoinNode();
await node.activateSegwit(MINER);
const esplora = await startEsplora(node);
const bitcoin = bitcoinModuleConfig(
  { nodes: { regtest: { api: 'esplora', url: esplora.url } }, min_confirmations: 2 },
  { tor: null, baseDir: '.' },
);
const g = await startTestGateway({
  identities: ['alice', 'bob'],
  policies: { alice: POLICY, bob: POLICY },
  protocols: { bitcoin },
  rateLimits: () => ({ max: 10_000, windowMs: 60_000 }),
});
const CAPS = ['bitcoin:send', 'bitcoin:new_address', 'bitcoin:balance', 'bitcoin:sign_psbt'];
const tokens = {
  alice: await g.token('agent', { identity: 'alice', capabilities: CAPS }),
  bob: await g.token('agent', { identity: 'bob', capabilities: CAPS }),
};
type Who = keyof typeof tokens;
const call = (who: Who, op: string, body: unknown = {}) =>
  g.call('POST', `/v1/bitcoin/${op}`, { token: tokens[who], body });
const dryRun = (who: Who, operation: string, request: unknown) =>
  g.call('POST', '/v1/dry-run', { token: tokens[who], body: { operation, request } });
const send = (who: Who, to: string, amount: bigint, feerate?: string) =>
  call(who, 'send', { to, amount_sat: amount.toString(), ...(feerate ? { feerate } : {}) });
const riskIds = (decision: { risk: { risks: { id: string }[] } }) => decision.risk.risks.map((r) => r.id);

async function newAddress(who: Who): Promise<string> {
  const r = await call(who, 'new-address');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.request.result.address as string;
}

// Alice: two coinbases, matured (more than 100 blocks deep).
for (let i = 0; i < 2; i++) await node.mine(1, scriptOf(await newAddress('alice')));
await node.mine(101, MINER);
await call('alice', 'balance');
const aliceKeys = g.warden.showIdentity('alice');

describe('the fee rate against the node’s next-block estimate (max_fee_rate_estimate_pct: 200)', () => {
  test('the node has no estimate: a send is refused (LIMIT_UNMEASURABLE), nothing reserved or sent', async () => {
    delete esplora.faults.feeEstimates;
    const r = await send('alice', PAYEE_ADDRESS, 100_000n, '1');
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'LIMIT_UNMEASURABLE');
    const decision = r.body.error.details.request.decision;
    assert.equal(decision.decidingRule, 'payments');
    assert.match(
      decision.reason,
      /max_fee_rate_estimate_pct of rule payments caps the Bitcoin fee rate at 200% of the node's next-block fee estimate, which cannot be measured/,
    );
    assert.match(decision.remedy, /^retry once the node has a fee estimate/);
    assert.deepEqual(await node.rpc('getrawmempool'), []);
    const ledger = await g.call('GET', '/v1/ledger', { token: tokens.alice });
    assert.deepEqual(
      ledger.body.totals.filter((t: { asset: string }) => t.asset === 'btc'),
      [],
    );
  });

  test('twice 2 sat/vB: a send at 4 sat/vB is allowed, at 4.001 refused with the numbers', async () => {
    esplora.faults.feeEstimates = CALM;
    const ok = await send('alice', PAYEE_ADDRESS, 100_000n, '4');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const check = ok.body.request.decision.trail[1].limits.find(
      (l: { limit: string }) => l.limit === 'max_fee_rate_estimate_pct',
    );
    // 4 sat/vB over 141 vB: 564 sat, 4.000 sat/vB exactly; the cap 200% of 2.000 sat/vB.
    assert.deepEqual([check.request, check.cap, check.ok], ['4000', '4000', true]);
    assert.equal(ok.body.request.result.fee, '564');
    await node.confirm(ok.body.request.result.txid, MINER);

    const over = await send('alice', PAYEE_ADDRESS, 100_000n, '4.001');
    assert.equal(over.status, 403, JSON.stringify(over.body));
    assert.equal(over.body.error.code, 'LIMIT_EXCEEDED');
    assert.match(
      over.body.error.details.request.decision.reason,
      /^Denied: Bitcoin fee rate 4\.008 sat\/vB is above the max_fee_rate_estimate_pct of rule payments \(200% of the node's next-block fee estimate 2\.000 sat\/vB: at most 4\.000 sat\/vB\)\.$/,
    );
  });

  test('a PSBT signature reads the same estimate when a node is configured: under the cap signed, over it and without an estimate refused', async () => {
    // One P2WPKH input, a payee and change: 141 vB; 564 sat is 4 sat/vB.
    const psbt = (fee: bigint, index: number) =>
      identityPsbt(aliceKeys, { purpose: 84, amount: 100_000n, pay: 50_000n, fee, version: 0, index });
    const sign = (p: string) => call('alice', 'sign-psbt', { psbt: p });
    const ok = await sign(psbt(564n, 3));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const over = await sign(psbt(565n, 4));
    assert.equal(over.body.error.code, 'LIMIT_EXCEEDED', JSON.stringify(over.body));
    delete esplora.faults.feeEstimates;
    const none = await sign(psbt(564n, 5));
    esplora.faults.feeEstimates = CALM;
    assert.equal(none.body.error.code, 'LIMIT_UNMEASURABLE', JSON.stringify(none.body));
  });

  test('a PSBT signature without any node configured: the estimate cap refuses, fail closed', async () => {
    const lone = await startTestGateway({ identities: ['carol'], policies: { carol: POLICY } });
    try {
      const token = await lone.token('agent', { identity: 'carol', capabilities: ['bitcoin:sign_psbt'] });
      const keys = lone.warden.showIdentity('carol');
      const psbt = identityPsbt(keys, { purpose: 84, amount: 100_000n, pay: 50_000n, fee: 200n, version: 0 });
      const r = await lone.call('POST', '/v1/bitcoin/sign-psbt', { token, body: { psbt } });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'LIMIT_UNMEASURABLE');
      assert.match(
        r.body.error.details.request.decision.reason,
        /no Bitcoin node is configured for the network/,
      );
    } finally {
      await lone.close();
    }
  });
});

describe('one fee read per request at most', () => {
  test('a burst of one identity’s sends shares the reads in flight; one after another, each reads afresh', async () => {
    esplora.faults.feeEstimates = CALM;
    const body = { to: PAYEE_ADDRESS, amount_sat: '20000', feerate: '1' };
    let before = esplora.feeReads;
    const burst = await Promise.all(Array.from({ length: 20 }, () => dryRun('alice', 'bitcoin.send', body)));
    assert.ok(burst.every((r) => r.status === 200));
    const shared = esplora.feeReads - before;
    assert.ok(shared >= 1 && shared < 20, `${shared} reads for 20 sends`);
    before = esplora.feeReads;
    for (let i = 0; i < 3; i++) await dryRun('alice', 'bitcoin.send', body);
    assert.equal(esplora.feeReads - before, 3, 'never kept after it settled: no stale estimate');
  });
});

describe('the fee as a share of the amount (max_fee_share_bps: 500, 5%)', () => {
  test('141 sat of fee: on 5,000 sat (2.82%) allowed, on 2,000 sat (7.05%) refused; Lightning suggested for both', async () => {
    esplora.faults.feeEstimates = CALM;
    const small = await send('alice', PAYEE_ADDRESS, 2_000n, '1');
    assert.equal(small.body.error.code, 'LIMIT_EXCEEDED', JSON.stringify(small.body));
    const decision = small.body.error.details.request.decision;
    assert.equal(
      decision.reason,
      'Denied: Bitcoin fee 141 sat is above the max_fee_share_bps of rule payments (500 bps (5.00%) of the amount 2,000 sat: at most 100 sat).',
    );
    assert.equal(decision.risk.alternative.protocol, 'lightning');
    const fine = await send('alice', PAYEE_ADDRESS, 5_000n, '1');
    assert.equal(fine.status, 200, JSON.stringify(fine.body));
    assert.equal(fine.body.request.decision.risk.alternative.protocol, 'lightning');
    await node.confirm(fine.body.request.result.txid, MINER);
  });
});

describe('risk rows on the real facts', () => {
  test('deep coins, a payee paid before, one of its own addresses: reuse rows on the facts, no reorg or 0-conf row', async () => {
    esplora.faults.feeEstimates = CALM;
    // Every coin of alice's 6 blocks deep or more: the change of the sends above too.
    await node.mine(6, MINER);
    // PAYEE_ADDRESS was paid (and committed) above; a fresh stranger's address was not.
    const fresh = addressOf(p2wpkh(STRANGER.derive("m/84'/1'/0'/0/77").publicKey!).script);
    const again = await dryRun('alice', 'bitcoin.send', {
      to: PAYEE_ADDRESS,
      amount_sat: '20000',
      feerate: '1',
    });
    const first = await dryRun('alice', 'bitcoin.send', { to: fresh, amount_sat: '20000', feerate: '1' });
    const own = await dryRun('alice', 'bitcoin.send', {
      to: await newAddress('alice'),
      amount_sat: '20000',
      feerate: '1',
    });
    for (const r of [again, first, own]) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(riskIds(again.body.decision).includes('btc.address-reuse'), 'paid before');
    assert.ok(!riskIds(first.body.decision).includes('btc.address-reuse'), 'a first payment');
    assert.ok(riskIds(own.body.decision).includes('btc.address-reuse'), 'one of its own addresses');
    assert.equal(own.body.intent.signals.paysOwnAddress, true);
    const facts = first.body.intent.signals;
    assert.equal(facts.spendsUnconfirmed, false);
    assert.ok(facts.minCoinDepth >= 6, `coins ${facts.minCoinDepth} deep`);
    assert.equal(facts.smallCoins, 0);
    for (const id of ['btc.double-spend-0conf', 'btc.reorg-1conf', 'btc.reorg-6conf', 'btc.utxo-dust'])
      assert.ok(!riskIds(first.body.decision).includes(id), id);
    // The caps' reference is in the intent, for the approver to see: the next-block estimate.
    assert.equal(first.body.intent.facets.fee_estimate_msat_vb, '2000');
  });

  test('coins 2 blocks deep and a small coin: the 6-conf reorg row and the dust row; an unconfirmed coin is never spent', async () => {
    esplora.faults.feeEstimates = CALM;
    const [big, tiny, pending] = [await newAddress('bob'), await newAddress('bob'), await newAddress('bob')];
    const fund = await call('alice', 'send', {
      outputs: [
        { to: big, amount_sat: '20000' },
        { to: tiny, amount_sat: '3000' },
      ],
      feerate: '1',
    });
    assert.equal(fund.status, 200, JSON.stringify(fund.body));
    await node.confirm(fund.body.request.result.txid, MINER);
    await node.mine(1, MINER);
    // A coin still in the mempool: bob's wallet sees it, a send does not spend it.
    const unconfirmed = await send('alice', pending, 30_000n, '1');
    assert.equal(unconfirmed.status, 200, JSON.stringify(unconfirmed.body));

    const r = await dryRun('bob', 'bitcoin.send', { to: PAYEE_ADDRESS, amount_sat: '10000', feerate: '1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { signals } = r.body.intent;
    assert.equal(signals.minCoinDepth, 2);
    assert.equal(signals.spendsUnconfirmed, false);
    assert.equal(signals.smallCoins, 1, '3,000 sat is less than spending it costs at 100 sat/vB');
    const ids = riskIds(r.body.decision);
    assert.ok(ids.includes('btc.reorg-6conf'));
    assert.ok(!ids.includes('btc.reorg-1conf'));
    assert.ok(ids.includes('btc.utxo-dust'));
    assert.ok(!ids.includes('btc.double-spend-0conf'));
    // The mempool's size is the node's own: the unconfirmed send is in it.
    assert.ok(signals.mempoolTx >= 1 && signals.mempoolCongested === false, JSON.stringify(signals));
    await node.mine(1, MINER);
  });

  test('the fee environment: a next-block estimate above 100 sat/vB and a mempool above 100,000 raise the fee rows', async () => {
    esplora.faults.feeEstimates = { '1': '150', '6': '40' };
    esplora.faults.mempoolCount = 150_000;
    const r = await dryRun('alice', 'bitcoin.send', {
      to: PAYEE_ADDRESS,
      amount_sat: '50000',
      feerate: '20',
    });
    delete esplora.faults.mempoolCount;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      [
        r.body.intent.signals.highFees,
        r.body.intent.signals.mempoolCongested,
        r.body.intent.signals.mempoolTx,
      ],
      [true, true, 150_000],
    );
    const fee = r.body.decision.risk.risks.find((x: { id: string }) => x.id === 'btc.fee-overpayment');
    assert.deepEqual(fee.adjustments, [
      'monitor: high fees, likelihood +1',
      'monitor: mempool congested, likelihood +1',
    ]);

    esplora.faults.feeEstimates = CALM;
    esplora.faults.mempoolCount = null;
    const calm = await dryRun('alice', 'bitcoin.send', {
      to: PAYEE_ADDRESS,
      amount_sat: '50000',
      feerate: '1',
    });
    delete esplora.faults.mempoolCount;
    assert.equal(calm.body.intent.signals.highFees, false);
    assert.equal(
      'mempoolCongested' in calm.body.intent.signals,
      false,
      'a server that does not tell: unknown',
    );
    const calmFee = calm.body.decision.risk.risks.find((x: { id: string }) => x.id === 'btc.fee-overpayment');
    assert.deepEqual(calmFee.adjustments, []);
  });
});
