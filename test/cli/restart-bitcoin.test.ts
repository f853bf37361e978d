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
import { after, describe, test } from 'node:test';
import { Address, OutScript, p2wpkh } from '@scure/btc-signer';
import { prefixesOf } from '../../src/protocols/bitcoin/networks.ts';
import { startBitcoinNode } from '../helpers/bitcoin-node.ts';
import { agentWithPolicy, initCliVault, type ServerProcess, writeFileMode } from '../helpers/cli.ts';
import { type EsploraFaults, startEsplora } from '../helpers/esplora.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';
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
after(() => esplora.close());
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

/** `warden --json …` with the vault passphrase, its output parsed; it must succeed. */
async function wardenJson(...args: string[]): Promise<any> {
  const r = await w('--json', ...args);
  assert.equal(r.code, 0, `warden ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Polls `check` until it holds, for at most `limitMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const mempool = async () => new Set<string>(await node.rpc('getrawmempool'));
const balance = (server: ServerProcess) => call(server, 'balance').then((r) => r.result);

/**
 * Submits a send while `fault` holds the façade at one point, waits until it is held there, and
 * kills the server with SIGKILL. Returns the id of the request the dead server left `executing`
 * (read with the server down, before any restart could touch it).
 */
async function killDuringSend(
  fault: 'stallLookups' | 'stallBroadcasts' | 'stallAfterTaking',
  reached: () => boolean | Promise<boolean>,
  inspect?: (server: ServerProcess, requestId: string) => Promise<void>,
): Promise<string> {
  const server = await vault.start();
  let resume = () => {};
  esplora.faults[fault] = new Promise<void>((resolve) => {
    resume = resolve;
  });
  const answer = fetch(`${server.url}/v1/bitcoin/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(SEND),
  }).then(
    (r) => `answered ${r.status}`,
    () => 'no answer',
  );
  try {
    await until(`the façade holds the send (${fault})`, reached);
    const executing = await wardenJson('requests', 'list', '--status', 'executing');
    assert.equal(executing.length, 1, JSON.stringify(executing));
    if (inspect) await inspect(server, executing[0].requestId);
    await server.stop('SIGKILL');
    assert.equal(await answer, 'no answer', 'the agent never heard back');
    // Still executing with its process gone: before this change, invisible for 10 minutes.
    const after = await wardenJson('requests', 'show', executing[0].requestId);
    assert.equal(after.status, 'executing');
    return executing[0].requestId;
  } finally {
    delete (esplora.faults as EsploraFaults)[fault];
    resume();
  }
}

/** Restarts the server; it must say it took the dead one's request over, now unknown, still counted. */
async function restartTakingOver(requestId: string): Promise<ServerProcess> {
  const server = await vault.start();
  assert.match(server.output(), new RegExp(`left executing by a Warden that was stopped.*${requestId}`));
  const view = await wardenJson('requests', 'show', requestId);
  assert.equal(view.status, 'unknown');
  assert.equal(view.error.code, 'EXECUTOR_GONE');
  return server;
}

async function reconcileFromChain(): Promise<{ requestId: string; verdict: string; reason: string }[]> {
  return wardenJson('ledger', 'reconcile', '--from-chain');
}

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
    const requestId = await killDuringSend('stallLookups', () => (esplora.faults.lookups ?? 0) > lookups);
    const restarted = await restartTakingOver(requestId);
    const verdicts = await reconcileFromChain();
    assert.deepEqual(
      verdicts.map((v) => [v.requestId, v.verdict]),
      [[requestId, 'release']],
      JSON.stringify(verdicts),
    );
    assert.match(verdicts[0]!.reason, /nothing was put on record/);
    const view = await wardenJson('requests', 'show', requestId);
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
    const requestId = await killDuringSend('stallAfterTaking', async () =>
      [...(await mempool())].some((t) => !before.has(t)),
    );
    const restarted = await restartTakingOver(requestId);
    const shown = await wardenJson('requests', 'show', requestId);
    const { txid, fee } = shown.result;
    assert.ok(
      (await mempool()).has(txid),
      'the transaction the dead server recorded is the one the node took',
    );
    const verdicts = await reconcileFromChain();
    assert.deepEqual(
      verdicts.map((v) => [v.requestId, v.verdict]),
      [[requestId, 'commit']],
      JSON.stringify(verdicts),
    );
    assert.match(verdicts[0]!.reason, new RegExp(`${txid} is in the node's mempool, fee ${fee} sat`));
    assert.equal((await wardenJson('requests', 'show', requestId)).status, 'done');
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
      'stallBroadcasts',
      () => (esplora.faults.broadcasts ?? 0) > broadcasts,
      async (_live, id) => {
        // The server that runs it is alive: a reconcile from another process must not take it.
        const verdicts = await reconcileFromChain();
        assert.equal(
          verdicts.filter((v) => v.requestId === id).length,
          0,
          `a live server's send was reconciled: ${JSON.stringify(verdicts)}`,
        );
        assert.equal((await wardenJson('requests', 'show', id)).status, 'executing');
      },
    );
    const restarted = await restartTakingOver(requestId);
    const { txid, fee, inputs } = (await wardenJson('requests', 'show', requestId)).result;
    assert.equal((await mempool()).has(txid), false, 'the node never took it');
    // Its coin stays locked to it while its outcome is unknown: no other send may spend it.
    const held = await balance(restarted);
    assert.equal(held.coins, 1);
    assert.notEqual(held.lockedSat, '0');
    assert.equal(held.spendableSat, '0');

    const verdicts = await reconcileFromChain();
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
    assert.deepEqual(await reconcileFromChain(), []);
    await restarted.stop('SIGTERM');
  });

  test('the budget counts each send once with the fee it paid, the released one not at all; the audit chain verifies', async () => {
    const totals = (await wardenJson('ledger', 'show')) as {
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
    const records = (await wardenJson('audit', 'show', '--identity', 'alice', '--limit', '1000')) as {
      action: string;
    }[];
    assert.equal(records.filter((r) => r.action === 'request.orphaned').length, 3);
    assert.equal(records.filter((r) => r.action === 'ledger.reconcile').length, 3);
  });
});
