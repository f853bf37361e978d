/**
 * `kill -9` in the middle of a Bitcoin send, then a restart and `warden ledger reconcile
 * --from-chain`, with the real `warden` executable against a real node: bcoin 1.0.2 on regtest
 * (in this process, started once for the file) behind the Esplora API of test/helpers/esplora.ts,
 * named in warden.yaml. The façade holds the send at one moment or another (proving its coins,
 * broadcasting, answering); the server is killed there, and the restarted one must find the
 * request it left `executing` at once, never run it again, and let reconcile settle it exactly:
 * no reservation lost, none counted twice, no coin in two transactions.
 *
 * The identity holds one coin at a time, so which coin a send may use is never in doubt.
 * The tests run in order, each on the chain the one before left.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Address, OutScript, p2wpkh } from '@scure/btc-signer';
import { prefixesOf } from '../../src/protocols/bitcoin/networks.ts';
import { startBitcoinNode } from '../helpers/bitcoin-node.ts';
import { agentWithPolicy, initCliVault, type ServerProcess, writeFileMode } from '../helpers/cli.ts';
import { type EsploraFaults, startEsplora } from '../helpers/esplora.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';
import {
  type Hold,
  killMidSend,
  reconcileFromChain,
  restartTakingOver,
  wardenJson,
} from '../helpers/kill-mid-send.ts';
import { PAYEE, STRANGER } from '../protocols/bitcoin/fixture.ts';

const REGTEST = prefixesOf('regtest');
const scriptOf = (address: string) => OutScript.encode(Address(REGTEST).decode(address));
const PAYEE_ADDRESS = Address(REGTEST).encode(OutScript.decode(PAYEE));
const MINER = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/9").publicKey!).script;
const AMOUNT = '100000';
const SEND = { to: PAYEE_ADDRESS, amount_sat: AMOUNT, feerate: '1' };
const POLICY = `
version: 1
name: restart-sends
risk: { tolerance: high }
new_destination: allow
rules:
  - id: wallet-reads
    match: { protocol: bitcoin, action: [new_address, balance] }
    effect: allow
  - id: sends
    match: { protocol: bitcoin, action: send, asset: btc }
    effect: allow
    limits:
      - { window: 24h, max_value: 10000000 }
`;

const node = await startBitcoinNode();
await node.activateSegwit(MINER);
const esplora = await startEsplora(node);
const vault = await initCliVault('restart-btc', TEST_PASSPHRASE);
const { dir, home, w } = vault;
writeFileMode(
  home,
  'warden.yaml',
  `protocols:
  bitcoin:
    nodes:
      regtest: { api: esplora, url: "${esplora.url}" }
    min_confirmations: 2
unsafe:
  allow_loopback_rpc: true
`,
);
assert.equal((await w('identity', 'create', 'alice', '--network', 'regtest')).code, 0);
const token = await agentWithPolicy(w, dir, 'alice', POLICY, [
  'bitcoin:send',
  'bitcoin:new_address',
  'bitcoin:balance',
]);

async function call(server: ServerProcess, op: string, body: unknown = {}) {
  const r = await fetch(`${server.url}/v1/bitcoin/${op}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await r.json()) as any;
  assert.equal(r.status, 200, JSON.stringify(json));
  return json.request;
}

const wj = (...args: string[]) => wardenJson(w, ...args);
const mempool = async () => new Set<string>(await node.rpc('getrawmempool'));
const balance = (server: ServerProcess) => call(server, 'balance').then((r) => r.result);

/** The façade holds the next send at `fault` until resumed; `reached` says when it holds it. */
function holdAt(
  fault: 'stallLookups' | 'stallBroadcasts' | 'stallAfterTaking',
  reached: Hold['reached'],
): Hold {
  let release = () => {};
  esplora.faults[fault] = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    reached,
    resume() {
      delete (esplora.faults as EsploraFaults)[fault];
      release();
    },
  };
}

const killDuringSend = (hold: () => Hold, inspect?: (server: ServerProcess, id: string) => Promise<void>) =>
  killMidSend({ vault, path: '/v1/bitcoin/send', token, body: SEND, hold, ...(inspect ? { inspect } : {}) });

const fees: bigint[] = [];

describe('kill -9 during a Bitcoin send, restart, reconcile from the chain (real processes, bcoin regtest)', () => {
  test('killed before it signed: released at once, its coin spendable, and the next send spends it', async () => {
    const server = await vault.start();
    const funding = (await call(server, 'new-address')).result.address as string;
    await node.mine(1, scriptOf(funding));
    // A coinbase matures after 100 blocks; one more gives the second confirmation on top.
    await node.mine(101, MINER);
    const funded = await balance(server);
    assert.equal(funded.coins, 1);
    const coin = BigInt(funded.spendableSat);
    assert.ok(coin > 0n);
    await server.stop('SIGTERM');

    const lookups = esplora.faults.lookups ?? 0;
    const requestId = await killDuringSend(() =>
      holdAt('stallLookups', () => (esplora.faults.lookups ?? 0) > lookups),
    );
    const restarted = await restartTakingOver(vault, requestId);
    const verdicts = await reconcileFromChain(vault);
    assert.deepEqual(
      verdicts.map((v) => [v.requestId, v.verdict]),
      [[requestId, 'release']],
      JSON.stringify(verdicts),
    );
    assert.match(verdicts[0]!.reason, /nothing was put on record/);
    const view = await wj('requests', 'show', requestId);
    assert.equal(view.status, 'failed');
    assert.equal(view.error.code, 'RECONCILED_NOT_EXECUTED');
    const after = await balance(restarted);
    assert.equal(after.lockedSat, '0');
    assert.equal(BigInt(after.spendableSat), coin);

    // The one coin is free: the next send spends exactly it.
    const next = await call(restarted, 'send', SEND);
    assert.equal(next.status, 'done', JSON.stringify(next));
    assert.equal(next.result.inputs.length, 1);
    assert.ok((await mempool()).has(next.result.txid));
    fees.push(BigInt(next.result.fee));
    await node.mine(2, MINER);
    await restarted.stop('SIGTERM');
  });

  test('killed after the node took the broadcast, before its answer: committed from the mempool with its fee, once', async () => {
    const before = await mempool();
    const requestId = await killDuringSend(() =>
      holdAt('stallAfterTaking', async () => [...(await mempool())].some((t) => !before.has(t))),
    );
    const restarted = await restartTakingOver(vault, requestId);
    const shown = await wj('requests', 'show', requestId);
    const { txid, fee } = shown.result;
    assert.ok(
      (await mempool()).has(txid),
      'the transaction the dead server recorded is the one the node took',
    );
    const verdicts = await reconcileFromChain(vault);
    assert.deepEqual(
      verdicts.map((v) => [v.requestId, v.verdict]),
      [[requestId, 'commit']],
      JSON.stringify(verdicts),
    );
    assert.match(verdicts[0]!.reason, new RegExp(`${txid} is in the node's mempool, fee ${fee} sat`));
    assert.equal((await wj('requests', 'show', requestId)).status, 'done');
    fees.push(BigInt(fee));
    await node.confirm(txid, MINER);
    await node.mine(1, MINER);
    // Its coin is spent on chain; nothing is left locked, and its change is the one coin now.
    const after = await balance(restarted);
    assert.equal(after.lockedSat, '0');
    assert.equal(after.coins, 1);
    assert.equal(after.unconfirmedSat, '0');
    await restarted.stop('SIGTERM');
  });

  test('killed mid-broadcast, the bytes never taken: a live server is left alone; after the kill the very transaction is sent again and committed once', async () => {
    const broadcasts = esplora.faults.broadcasts ?? 0;
    const requestId = await killDuringSend(
      () => holdAt('stallBroadcasts', () => (esplora.faults.broadcasts ?? 0) > broadcasts),
      async (_live, id) => {
        // The server that runs it is alive: a reconcile from another process must not take it.
        const verdicts = await reconcileFromChain(vault);
        assert.equal(
          verdicts.filter((v) => v.requestId === id).length,
          0,
          `a live server's send was reconciled: ${JSON.stringify(verdicts)}`,
        );
        assert.equal((await wj('requests', 'show', id)).status, 'executing');
      },
    );
    const restarted = await restartTakingOver(vault, requestId);
    const { txid, fee, inputs } = (await wj('requests', 'show', requestId)).result;
    assert.equal((await mempool()).has(txid), false, 'the node never took it');
    // Its coin stays locked to it while its outcome is unknown: no other send may spend it.
    const held = await balance(restarted);
    assert.equal(held.coins, 1);
    assert.notEqual(held.lockedSat, '0');
    assert.equal(held.spendableSat, '0');

    const verdicts = await reconcileFromChain(vault);
    assert.deepEqual(
      verdicts.map((v) => [v.requestId, v.verdict]),
      [[requestId, 'commit']],
      JSON.stringify(verdicts),
    );
    assert.match(verdicts[0]!.reason, /broadcast again \(the same signed bytes\)/);
    assert.ok((await mempool()).has(txid));
    fees.push(BigInt(fee));
    const mined = await node.confirm(txid, MINER);
    assert.equal(mined.confirmations, 1);
    const tx = await node.rpc('getrawtransaction', [txid, 1]);
    assert.deepEqual(
      tx.vin.map((i: { txid: string; vout: number }) => `${i.txid}:${i.vout}`),
      inputs,
    );
    // Reconciling again finds nothing left: settled once.
    assert.deepEqual(await reconcileFromChain(vault), []);
    await restarted.stop('SIGTERM');
  });

  test('the budget counts each send once with the fee it paid, the released one not at all; the audit chain verifies', async () => {
    const totals = (await wj('ledger', 'show')) as {
      asset: string;
      status: string;
      total: string;
      fees: string;
      count: number;
    }[];
    const btc = new Map(totals.filter((t) => t.asset === 'btc').map((t) => [t.status, t]));
    assert.deepEqual(
      [...btc.keys()].sort(),
      ['committed', 'released'],
      'nothing reserved or unknown is left',
    );
    const committed = btc.get('committed')!;
    assert.deepEqual(
      [committed.total, committed.fees, committed.count],
      [(3n * BigInt(AMOUNT)).toString(), fees.reduce((a, b) => a + b, 0n).toString(), 3],
    );
    const released = btc.get('released')!;
    assert.deepEqual([released.total, released.count], [AMOUNT, 1]);
    const verify = await w('audit', 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const records = (await wj('audit', 'show', '--identity', 'alice', '--limit', '1000')) as {
      action: string;
    }[];
    assert.equal(records.filter((r) => r.action === 'request.orphaned').length, 3);
    assert.equal(records.filter((r) => r.action === 'ledger.reconcile').length, 3);
  });
});
