/**
 * bitcoin.send with amount jitter against a real node (bcoin on regtest behind the Esplora API,
 * as send-regtest.test.ts): the amount drawn is the one the policy judged, the approver saw, the
 * chain pays and the ledger counts (plus the fee), exactly; a policy that does not opt in refuses.
 *
 * alice's policy opts in (a rule naming `amount_jitter: jittered`, capped at 500 sat and 100 bps);
 * bob's caps jitter but names it in no rule; carol's sets no jitter cap at all.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, OutScript, p2wpkh, Transaction } from '@scure/btc-signer';
import { bitcoinModuleConfig } from '../../../src/protocols/bitcoin/config.ts';
import { prefixesOf } from '../../../src/protocols/bitcoin/networks.ts';
import { startBitcoinNode } from '../../helpers/bitcoin-node.ts';
import { startEsplora } from '../../helpers/esplora.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { PAYEE, STRANGER } from './fixture.ts';

const REGTEST = prefixesOf('regtest');
const addressOf = (script: Uint8Array) => Address(REGTEST).encode(OutScript.decode(script));
const PAYEE_ADDRESS = addressOf(PAYEE);
const MINER = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/8").publicKey!).script;

/** 20,000 sat asked; 1% of it (200 sat) is the tightest jitter cap: never beyond 19,800–20,200. */
const ASKED = 20_000n;
const CAPPED = { min: 19_800n, max: 20_200n };
/** A rule holds what is above 20,100 sat: the approver sees the amount drawn. */
const HOLD_ABOVE = 20_100n;
/** The recipient takes 19,900 to 20,100: always allowed without a hold. */
const JITTER = { min_amount_sat: '19900', max_amount_sat: HOLD_ABOVE.toString() };

const reads = `  - id: wallet-reads
    match: { protocol: bitcoin, action: [new_address, balance] }
    effect: allow
`;
const ALICE = `
version: 1
name: jitter-opt-in
risk: { tolerance: high }
rules:
${reads}  - id: sends
    match: { protocol: bitcoin, action: send, asset: btc, amount: { max: ${HOLD_ABOVE} } }
    effect: allow
  - id: jittered-sends
    match: { protocol: bitcoin, action: send, asset: btc, amount_jitter: jittered, amount: { max: ${HOLD_ABOVE} } }
    effect: allow
    max_amount_jitter: 500
    max_amount_jitter_bps: 100
  - id: big-jittered-sends
    match: { protocol: bitcoin, action: send, asset: btc, amount_jitter: jittered, amount: { min: ${HOLD_ABOVE + 1n} } }
    effect: hold
    approvals: 1
`;
const BOB = `
version: 1
name: jitter-capped-not-named
risk: { tolerance: high }
rules:
${reads}  - id: sends
    match: { protocol: bitcoin, action: send, asset: btc }
    effect: allow
    max_amount_jitter: 500
`;
const CAROL = `
version: 1
name: no-jitter
risk: { tolerance: high }
rules:
${reads}  - id: sends
    match: { protocol: bitcoin, action: send, asset: btc }
    effect: allow
`;

const node = await startBitcoinNode();
await node.activateSegwit(MINER);
const esplora = await startEsplora(node);
const g = await startTestGateway({
  identities: ['alice', 'bob', 'carol'],
  policies: { alice: ALICE, bob: BOB, carol: CAROL },
  protocols: {
    bitcoin: bitcoinModuleConfig(
      { nodes: { regtest: { api: 'esplora', url: esplora.url } }, min_confirmations: 1 },
      { tor: null, baseDir: '.' },
    ),
  },
  rateLimits: () => ({ max: 10_000, windowMs: 60_000 }),
});
const CAPS = ['bitcoin:send', 'bitcoin:new_address'] as const;
const tokens = {
  alice: await g.token('agent', { identity: 'alice', capabilities: [...CAPS] }),
  bob: await g.token('agent', { identity: 'bob', capabilities: [...CAPS] }),
  carol: await g.token('agent', { identity: 'carol', capabilities: [...CAPS] }),
};
const operator = await g.token('operator');
type Who = keyof typeof tokens;
const call = (who: Who, op: string, body: unknown = {}) =>
  g.call('POST', `/v1/bitcoin/${op}`, { token: tokens[who], body });
const send = (who: Who, extra: Record<string, unknown> = {}) =>
  call(who, 'send', { to: PAYEE_ADDRESS, amount_sat: ASKED.toString(), feerate: '1', ...extra });

/** Eight matured coinbases for alice, two for bob. */
for (const [who, n] of [
  ['alice', 8],
  ['bob', 2],
] as const) {
  const r = await call(who, 'new-address');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await node.mine(n, OutScript.encode(Address(REGTEST).decode(r.body.request.result.address)));
}
await node.mine(101, MINER);

/** What the payee's output of a transaction in the node's mempool or chain holds. */
async function paidOnChain(txid: string): Promise<bigint> {
  const tx = Transaction.fromRaw(await node.rawTransaction(txid), { allowUnknownOutputs: true });
  const outputs = Array.from({ length: tx.outputsLength }, (_, i) => tx.getOutput(i));
  const paid = outputs.filter((o) => addressOf(o.script!) === PAYEE_ADDRESS);
  assert.equal(paid.length, 1);
  return paid[0]!.amount!;
}

async function committed(who: Who) {
  const ledger = await g.call('GET', '/v1/ledger', { token: tokens[who] });
  assert.equal(ledger.status, 200, JSON.stringify(ledger.body));
  const t = ledger.body.totals.find(
    (x: { status: string; asset: string }) => x.status === 'committed' && x.asset === 'btc',
  );
  return t ? { total: BigInt(t.total), fees: BigInt(t.fees), count: t.count as number } : null;
}

describe('amount jitter on a real regtest node', () => {
  test('each send pays an amount drawn in the range; the chain, the result and the ledger agree exactly', async () => {
    let total = 0n;
    let fees = 0n;
    const amounts = new Set<bigint>();
    const sends = 5;
    for (let i = 0; i < sends; i++) {
      const r = await send('alice', { amount_jitter: JITTER });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const result = r.body.request.result;
      const sent = BigInt(result.amountSat);
      assert.equal(result.requestedAmountSat, ASKED.toString());
      assert.ok(sent >= 19_900n && sent <= HOLD_ABOVE, `${sent} within 19,900–${HOLD_ABOVE}`);
      assert.equal(await paidOnChain(result.txid), sent, 'the chain pays what was judged and booked');
      // The audit log tells both: the decision record's intent, and the result record.
      const records = (await g.warden.showAudit({ identity: 'alice', limit: 10 })).filter(
        (v) => v.summary.operationId === r.body.request.requestId,
      );
      const decided = records.find((v) => (v.details as any)?.intent) as any;
      assert.equal(decided?.details.intent.amount, sent.toString(), JSON.stringify(records));
      assert.equal(decided.details.intent.detail.amountJitter.requestedSat, ASKED.toString());
      const settled = records.find((v) => (v.details as any)?.result) as any;
      assert.deepEqual(
        [settled?.details.result.amountSat, settled?.details.result.requestedAmountSat],
        [sent.toString(), ASKED.toString()],
        JSON.stringify(records.map((v) => v.details)),
      );
      amounts.add(sent);
      total += sent;
      fees += BigInt(result.fee);
      await node.confirm(result.txid, MINER);
    }
    assert.deepEqual(await committed('alice'), { total, fees, count: sends }, 'the amounts sent, plus fees');
    // 201 amounts: five draws all alike would be 1 in 201^4.
    assert.ok(amounts.size > 1, `${sends} draws all gave ${[...amounts]}`);
  });

  test('a held jittered send: the approver sees the exact amount drawn, and that amount is what leaves', async () => {
    const before = (await committed('alice')) ?? { total: 0n, fees: 0n, count: 0 };
    // The draw decides the rule: retry until one lands above 20,100 sat (each try 1/3 likely).
    let held: { requestId: string } | null = null;
    for (let i = 0; i < 40 && !held; i++) {
      const r = await send('alice', { amount_jitter: { max_amount_sat: '20300' } });
      if (r.status === 202) held = r.body.request;
      else {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.ok(
          BigInt(r.body.request.result.amountSat) >= ASKED,
          'no min_amount_sat: never less than asked',
        );
        before.total += BigInt(r.body.request.result.amountSat);
        before.fees += BigInt(r.body.request.result.fee);
        before.count++;
        await node.confirm(r.body.request.result.txid, MINER);
      }
    }
    assert.ok(held, 'no draw above 20,100 sat in 40 tries');
    const shown = await g.call('GET', `/v1/approvals/${held.requestId}`, { token: operator });
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    const review = shown.body.approval.review;
    const drawn = BigInt(review.payload.outputs[0].amountSat);
    assert.ok(drawn > HOLD_ABOVE && drawn <= CAPPED.max, `${drawn}`);
    assert.deepEqual(review.payload.amountJitter, {
      requestedSat: '20000',
      minSat: '20000',
      maxSat: CAPPED.max.toString(),
    });
    assert.match(
      shown.body.approval.summary,
      new RegExp(`^Send ${drawn} sat to ${PAYEE_ADDRESS} \\(asked 20000 sat`),
    );
    const approved = await g.call('POST', `/v1/approvals/${held.requestId}/approve`, {
      token: operator,
      body: {},
    });
    assert.equal(approved.body.request.status, 'done', JSON.stringify(approved.body));
    const result = approved.body.request.result;
    assert.equal(result.amountSat, drawn.toString(), 'not drawn again when it runs');
    assert.equal(await paidOnChain(result.txid), drawn);
    assert.deepEqual(await committed('alice'), {
      total: before.total + drawn,
      fees: before.fees + BigInt(result.fee),
      count: before.count + 1,
    });
    await node.confirm(result.txid, MINER);
  });

  test('refused: a policy that caps jitter but names it in no rule, one without a cap, and jitter asked without a range', async () => {
    const notNamed = await send('bob', { amount_jitter: { min_amount_sat: '19000' } });
    assert.equal(notNamed.status, 403, JSON.stringify(notNamed.body));
    assert.equal(notNamed.body.error.code, 'NO_MATCHING_RULE');
    assert.match(notNamed.body.error.details.request.decision.remedy, /amount_jitter/);
    const uncapped = await send('carol', { amount_jitter: JITTER });
    assert.equal(uncapped.status, 403, JSON.stringify(uncapped.body));
    assert.equal(uncapped.body.error.code, 'AMOUNT_JITTER_NOT_ALLOWED');
    const noRange = await send('alice', { amount_jitter: {} });
    assert.equal(noRange.status, 400);
    assert.equal(noRange.body.error.code, 'INVALID_REQUEST');
    // Bob's exact sends still go: the opt-in concerns only jittered ones.
    const exact = await send('bob');
    assert.equal(exact.status, 200, JSON.stringify(exact.body));
    assert.equal(exact.body.request.result.amountSat, ASKED.toString());
    assert.equal(await paidOnChain(exact.body.request.result.txid), ASKED);
    assert.equal((await committed('bob'))?.total, ASKED);
  });
});
