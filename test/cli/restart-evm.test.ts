/**
 * `kill -9` in the middle of an EVM send, then a restart and `warden ledger reconcile
 * --from-chain`, with the real `warden` executable against a real node (Hardhat, started once for
 * the file) behind a JSON-RPC hop that holds the send where the test wants it (named in
 * warden.yaml). Killed before it signed: released, its nonce never spent (the next send takes
 * it). Killed after the node took it: committed from its receipt with the fee it paid. The tests
 * run in order, each on the chain the one before left.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { agentWithPolicy, initCliVault, writeFileMode } from '../helpers/cli.ts';
import { fund, HARDHAT_CHAIN_ID, rpcCall, startHardhat } from '../helpers/hardhat.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';
import { killMidSend, reconcileFromChain, restartTakingOver, wardenJson } from '../helpers/kill-mid-send.ts';
import { evmSendsPolicy } from '../helpers/policies.ts';
import { startRpcHop } from '../helpers/rpc-hop.ts';

const ONE_ETH = 10n ** 18n;
const CENT = ONE_ETH / 100n;
const RECIPIENT = '0x3333333333333333333333333333333333333333';
const SEND = {
  chainId: HARDHAT_CHAIN_ID,
  to: RECIPIENT,
  value: CENT.toString(),
  maxFeePerGas: '20000000000',
  maxPriorityFeePerGas: '1000000000',
};
const POLICY = evmSendsPolicy('restart-evm', HARDHAT_CHAIN_ID, ONE_ETH);
// Fees stay as reconcile books them: no fee following by the server in between.
const START = ['--fee-follow', '0'];

const node = await startHardhat();
const hop = await startRpcHop(node.rpcUrl);
after(() => hop.close());
const vault = await initCliVault('restart-evm', TEST_PASSPHRASE);
const { dir, home, w } = vault;
writeFileMode(
  home,
  'warden.yaml',
  `protocols:\n  evm:\n    rpc:\n      ${HARDHAT_CHAIN_ID}: "${hop.url}"\nunsafe:\n  allow_loopback_rpc: true\n`,
);
const identity = await wardenJson(w, 'identity', 'create', 'treasury', '--network', 'regtest');
const token = await agentWithPolicy(w, dir, 'treasury', POLICY, 'evm:send');
await fund(node.rpcUrl, identity.evm.address, 10n * ONE_ETH);

const killDuringSend = (method: string, mode: 'before' | 'after-forward') =>
  killMidSend({
    vault,
    path: '/v1/evm/send',
    token,
    body: SEND,
    hold: () => hop.hold(method, mode),
    startArgs: START,
  });

async function feePaid(txHash: string): Promise<bigint> {
  const receipt = (await rpcCall(node.rpcUrl, 'eth_getTransactionReceipt', [txHash])) as {
    gasUsed: string;
    effectiveGasPrice: string;
    status: string;
  };
  assert.equal(receipt.status, '0x1');
  return BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
}

const fees: bigint[] = [];

describe('kill -9 during an EVM send, restart, reconcile from the chain (real processes, Hardhat)', () => {
  test('killed before it signed: released at once as never sent, and the next send takes nonce 0', async () => {
    const requestId = await killDuringSend('eth_getTransactionCount', 'before');
    const restarted = await restartTakingOver(vault, requestId, START);
    const verdicts = await reconcileFromChain(vault);
    assert.deepEqual(
      verdicts.map((v) => [v.requestId, v.verdict]),
      [[requestId, 'release']],
      JSON.stringify(verdicts),
    );
    const view = await wardenJson(w, 'requests', 'show', requestId);
    assert.equal(view.status, 'failed');
    const next = await fetch(`${restarted.url}/v1/evm/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(SEND),
    }).then((r) => r.json() as Promise<any>);
    assert.equal(next.request?.status, 'done', JSON.stringify(next));
    assert.equal(next.request.result.nonce, 0, 'no nonce was spent by the killed send');
    fees.push(await feePaid(next.request.result.txHash));
    await restarted.stop('SIGTERM');
  });

  test('killed after the node took it, before its answer: committed from its receipt with the fee it paid, once', async () => {
    const requestId = await killDuringSend('eth_sendRawTransaction', 'after-forward');
    const restarted = await restartTakingOver(vault, requestId, START);
    const { txHash, nonce } = (await wardenJson(w, 'requests', 'show', requestId)).result;
    assert.equal(nonce, 1);
    const paid = await feePaid(txHash);
    const verdicts = await reconcileFromChain(vault);
    const mine = verdicts.filter((v) => v.verdict !== 'fee');
    assert.deepEqual(
      mine.map((v) => [v.requestId, v.verdict]),
      [[requestId, 'commit']],
      JSON.stringify(verdicts),
    );
    assert.match(mine[0]!.reason, new RegExp(`fee paid ${paid} wei`));
    assert.equal((await wardenJson(w, 'requests', 'show', requestId)).status, 'done');
    fees.push(paid);
    assert.deepEqual(
      (await reconcileFromChain(vault)).filter((v) => v.verdict !== 'fee'),
      [],
      'settled once',
    );
    await restarted.stop('SIGTERM');

    const totals = (await wardenJson(w, 'ledger', 'show')) as {
      status: string;
      total: string;
      fees: string;
      count: number;
    }[];
    const byStatus = new Map(totals.map((t) => [t.status, t]));
    assert.deepEqual([...byStatus.keys()].sort(), ['committed', 'released']);
    const committed = byStatus.get('committed')!;
    assert.deepEqual(
      [committed.total, committed.fees, committed.count],
      [(2n * CENT).toString(), (fees[0]! + fees[1]!).toString(), 2],
    );
    assert.deepEqual(
      [byStatus.get('released')!.total, byStatus.get('released')!.count],
      [CENT.toString(), 1],
    );
    const verify = await w('audit', 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
