/**
 * bitcoin.sign_psbt against a real node: bcoin 1.0.2 on regtest, in this process, and a real
 * Warden over HTTP on 127.0.0.1. The identity's BIP-84 and BIP-86 receive addresses hold mined
 * coins; an agent's watch-only wallet builds PSBTs spending them (to a stranger, change back to
 * the identity's internal chain), Warden signs them, the node takes them into its mempool and
 * mines them. bcoin does not validate taproot spends, so every signed transaction is also run
 * through bitcore-lib's script interpreter. The node and the funding are set up once per file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { p2wpkh, RawTx, Transaction } from '@scure/btc-signer';
import { type Confirmation, startBitcoinNode } from '../../helpers/bitcoin-node.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { claimFor, PAYEE, STRANGER } from './fixture.ts';
import { type Coin, finalize, interpreterError, type Purpose, watchOnlyWallet } from './regtest-wallet.ts';

const fileStarted = performance.now();

/**
 * Signed at once below 100,000 sat paid out, held from there; denied when what is paid out plus
 * the fee passes 200,000 sat (max_per_tx counts the fee: fees are money).
 */
const CAP = 200_000n;
const POLICY = `
version: 1
name: regtest
risk: { tolerance: high }
new_destination: allow
rules:
  - id: psbt-cap
    match: { protocol: bitcoin, action: sign_psbt }
    effect: allow
    max_per_tx: ${CAP}
  - id: psbt-review
    match: { protocol: bitcoin, action: sign_psbt, amount: { min: 100000 } }
    effect: hold
    approvals: 1
`;
const FEE = 1_000n;
/** Where the coinbases nobody spends go: a stranger's key (the node is handed scripts, never addresses). */
const MINER = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/9").publicKey!).script;

const node = await startBitcoinNode();
const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
const agent = await g.token('agent', { identity: 'alice', capabilities: ['bitcoin:sign_psbt'] });
const operator = await g.token('operator');
const wallet = watchOnlyWallet(g.warden.showIdentity('alice'));

/** Mines one block whose coinbase pays the identity's receive address <purpose>'/1'/0'/0/<index>. */
async function mineTo(purpose: Purpose, index: number): Promise<Coin> {
  const script = wallet.script(purpose, 0, index);
  const [hash] = await node.mine(1, script);
  const txid = (await node.rpc('getblock', [hash, true, false])).tx[0] as string;
  const raw = await node.rawTransaction(txid);
  const out = Transaction.fromRaw(raw, { allowUnknownOutputs: true }).getOutput(0);
  assert.deepEqual(out.script, script);
  return { txid, vout: 0, amount: out.amount!, script, raw, purpose, chain: 0, index };
}

const coins = {
  p2wpkh: await mineTo(84, 0),
  p2tr: await mineTo(86, 0),
  // For the policy cases: signed, held and refused PSBTs; only the approved one is broadcast.
  spare: await mineTo(84, 1),
};
// Coinbases mature after 100 blocks; segwit is active after ~432 on bcoin's regtest.
await node.activateSegwit(MINER);
assert.ok(node.height() >= 103);
const setupMs = Math.round(performance.now() - fileStarted);

function signPsbt(psbt: string) {
  return g.call('POST', '/v1/bitcoin/sign-psbt', { token: agent, body: { psbt } });
}

/** Sum of a raw transaction's outputs, read from its bytes (bigint sat, no float BTC). */
function outputTotal(raw: Uint8Array): bigint {
  const tx = Transaction.fromRaw(raw, { allowUnknownOutputs: true });
  let total = 0n;
  for (let i = 0; i < tx.outputsLength; i++) total += tx.getOutput(i).amount!;
  return total;
}

/** The change outputs the mined spends left at the internal address 1/0, for the spend of both. */
const changeCoins = new Map<Purpose, Coin>();

/** Signs `coin`'s spend over HTTP, checks it with bitcore, broadcasts it and mines it. */
async function spendOnChain(coin: Coin, pay: bigint, version: 0 | 2) {
  const psbt = wallet.spend(
    coin,
    [{ script: PAYEE, amount: pay }, wallet.change(coin.purpose, coin.amount - pay - FEE)],
    version,
  );
  const signed = await signPsbt(psbt);
  assert.equal(signed.status, 200, JSON.stringify(signed.body));
  const result = signed.body.request.result;
  assert.deepEqual(result.signedInputs, [0]);
  assert.equal(result.fee, FEE.toString());
  const raw = finalize(result.psbt);
  assert.equal(interpreterError(raw, [coin]), null, 'bitcore-lib verifies every input');
  const txid = result.txid as string;
  let confirmation: Confirmation;
  if (coin.purpose === 84) {
    assert.equal(await node.submit(raw), txid, 'the txid Warden reported is the one in the mempool');
    confirmation = await node.confirm(txid, MINER);
  } else {
    // bcoin 1.0.2 predates taproot: its mempool calls a witness v1 spend non-standard (and would
    // take any witness for it). Its consensus rules let it into a block; bitcore checked the signature.
    await assert.rejects(node.submit(raw), /non-mandatory-script-verify-flag/);
    confirmation = await node.mineTransaction(raw, MINER);
  }
  assert.equal(confirmation.confirmations, 1);
  // The fee the chain sees is the one Warden counted, and the change is at our internal address.
  const mined = await node.rawTransaction(txid);
  assert.equal(coin.amount - outputTotal(mined), FEE);
  const change = Transaction.fromRaw(mined, { allowUnknownOutputs: true }).getOutput(1);
  assert.deepEqual(change.script, wallet.script(coin.purpose, 1, 0));
  changeCoins.set(coin.purpose, {
    ...{ txid, vout: 1, amount: change.amount!, script: change.script!, raw: mined },
    ...{ purpose: coin.purpose, chain: 1, index: 0 },
  });
  return { requestId: signed.body.request.requestId as string, txid, raw, confirmation };
}

describe('bitcoin.sign_psbt against bcoin regtest', () => {
  test('a P2WPKH (BIP-84) coin in a BIP-174 (v0) PSBT: signed over HTTP, verified, taken into the mempool, mined; the ledger and audit count the fee', async () => {
    const spent = await spendOnChain(coins.p2wpkh, 30_000n, 0);
    // Sent again, its coin is spent: bcoin still answers a txid, the helper sees the refusal.
    await assert.rejects(node.submit(spent.raw), /bcoin refused/);
    const request = (await g.call('GET', `/v1/requests/${spent.requestId}`, { token: agent })).body.request;
    assert.equal(request.status, 'done');
    assert.equal(request.result.txid, spent.txid);

    const ledger = (await g.call('GET', '/v1/ledger', { token: agent })).body;
    const entry = ledger.entries.find((e: { requestId?: string }) => e.requestId === spent.requestId);
    assert.ok(entry, JSON.stringify(ledger));
    assert.equal(entry.amount, '30000');
    assert.equal(entry.fee, FEE.toString());
    const audit = await g.warden.showAudit({ identity: 'alice', limit: 1_000 });
    const records = audit.filter((r) => JSON.stringify(r).includes(spent.requestId));
    assert.deepEqual(
      records.map((r) => [r.action, r.outcome]),
      [
        ['bitcoin.sign_psbt', 'ok'],
        ['bitcoin.sign_psbt.result', 'ok'],
      ],
      'the admission and the signature are on record',
    );
    const [admitted, settled] = records.map((r) => r.details as any);
    assert.equal(admitted.intent.maxFee, FEE.toString());
    assert.equal(admitted.intent.detail.txid, spent.txid);
    assert.equal(settled.ledger, 'committed');
    assert.equal(settled.result.fee, FEE.toString());
  });

  test('a P2TR (BIP-86) key-path spend in a BIP-370 (v2) PSBT: bitcore-lib verifies the Schnorr signature (bcoin cannot), bcoin mines it in a block', async () => {
    const spent = await spendOnChain(coins.p2tr, 40_000n, 2);
    // The interpreter really checks taproot: one flipped bit of the signature fails it.
    const tampered = RawTx.decode(spent.raw);
    const sig = Uint8Array.from(tampered.witnesses![0]![0]!);
    sig[10]! ^= 1;
    tampered.witnesses![0]![0] = sig;
    assert.notEqual(interpreterError(RawTx.encode(tampered), [coins.p2tr]), null);
  });

  test('both change outputs in one transaction (a P2WPKH and a P2TR input, previous transactions with witnesses): both signed, verified, mined', async () => {
    const p2wpkhChange = changeCoins.get(84);
    const p2trChange = changeCoins.get(86);
    assert.ok(p2wpkhChange && p2trChange, 'the two spends above ran first and left their change');
    const inputs = [p2wpkhChange, p2trChange];
    const total = p2wpkhChange.amount + p2trChange.amount;
    const outputs = [{ script: PAYEE, amount: 50_000n }, wallet.change(84, total - 50_000n - FEE, 1)];
    // Without the taproot input's previous transaction, the mix is refused with its code.
    const unproven = await signPsbt(wallet.spend(inputs, outputs, 0, { taprootPrevious: false }));
    assert.equal(unproven.body.error?.code, 'INPUT_AMOUNT_UNPROVEN', JSON.stringify(unproven.body));
    assert.ok(unproven.status >= 400);
    const signed = await signPsbt(wallet.spend(inputs, outputs));
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    assert.deepEqual(signed.body.request.result.signedInputs, [0, 1]);
    const raw = finalize(signed.body.request.result.psbt);
    // The taproot input's sighash commits to both spent outputs: bitcore checks both inputs.
    assert.equal(interpreterError(raw, inputs), null);
    // A taproot input makes it non-standard to bcoin 1.0.2: mined directly (consensus only).
    const confirmation = await node.mineTransaction(raw, MINER);
    assert.equal(confirmation.confirmations, 1);
    assert.equal(total - outputTotal(await node.rawTransaction(signed.body.request.result.txid)), FEE);
  });

  test("a 'change' output that claims our internal path but pays a foreign key is external and counts against the cap", async () => {
    const foreign = STRANGER.derive("m/84'/1'/0'/1/0").publicKey!;
    const fake = {
      script: p2wpkh(foreign).script,
      amount: 150_000n,
      // Our fingerprint and our change path, but a foreign key: a claim alone never makes it ours.
      claim: claimFor(84, 1, 0, foreign, wallet.fingerprint),
    };
    const coin = coins.spare;
    const honest = wallet.spend(coin, [
      { script: PAYEE, amount: 20_000n },
      wallet.change(84, coin.amount - 20_000n - FEE),
    ]);
    const lying = wallet.spend(coin, [
      { script: PAYEE, amount: 20_000n },
      fake,
      wallet.change(84, coin.amount - 170_000n - FEE),
    ]);
    const allowed = await signPsbt(honest);
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    // With honest change, only the payee's 20,000 sat is booked as spent (and the fee beside it).
    const ledger = (await g.call('GET', '/v1/ledger', { token: agent })).body;
    const entry = ledger.entries.find(
      (e: { requestId?: string }) => e.requestId === allowed.body.request.requestId,
    );
    assert.deepEqual([entry?.amount, entry?.fee], ['20000', FEE.toString()]);
    // 20,000 + 150,000 + the fee is above the hold threshold: the fake change was counted as spent.
    const held = await signPsbt(lying);
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body.request.result ?? null, null);
    const shown = (await g.call('GET', `/v1/approvals/${held.body.request.requestId}`, { token: operator }))
      .body.approval;
    assert.match(shown.summary, /150,000 sat to bcrt1q/);
    const review = shown.review;
    assert.equal(review.intent.amount, '170000');
    assert.equal(review.payload.spent, '170000');
    assert.deepEqual(
      review.payload.outputs.map((o: { role: string }) => o.role),
      ['external', 'external', 'change'],
    );
  });

  test('the fee counts against the cap: paying the cap is denied (LIMIT_EXCEEDED, no signature); paying the cap less the fee is held, approved, mined', async (t) => {
    const coin = coins.spare;
    const paying = (amount: bigint) =>
      wallet.spend(coin, [{ script: PAYEE, amount }, wallet.change(84, coin.amount - amount - FEE)]);
    const over = await signPsbt(paying(CAP));
    assert.equal(over.status, 403, JSON.stringify(over.body));
    assert.equal(over.body.error.code, 'LIMIT_EXCEEDED');
    assert.equal(over.body.request?.result ?? null, null);
    assert.doesNotMatch(JSON.stringify(over.body), /"psbt"/);

    const held = await signPsbt(paying(CAP - FEE));
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body.request.status, 'held');
    assert.equal(held.body.request.result ?? null, null);

    const id = held.body.request.requestId;
    const shown = (await g.call('GET', `/v1/approvals/${id}`, { token: operator })).body.approval;
    const approved = await g.call('POST', `/v1/approvals/${id}/approve`, {
      token: operator,
      body: { intentHash: shown.intentHash },
    });
    assert.equal(approved.body.request.status, 'done', JSON.stringify(approved.body));
    const raw = finalize(approved.body.request.result.psbt);
    assert.equal(interpreterError(raw, [coin]), null);
    const txid = await node.submit(raw);
    const confirmation = await node.confirm(txid, MINER);
    assert.equal(confirmation.confirmations, 1);
    t.diagnostic(
      `bcoin regtest node up in ${node.startupMs} ms; file setup (node, Warden, 3 coinbases, ` +
        `segwit and maturity: ${confirmation.height} blocks by now) ${setupMs} ms`,
    );
  });
});
