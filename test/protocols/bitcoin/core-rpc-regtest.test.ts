/**
 * The Bitcoin Core JSON-RPC client's fee environment against a real node's RPC: bcoin 1.0.2 on
 * regtest answers getmempoolinfo as Core does, and estimatesmartfee in its older shape (`fee`, no
 * `feerate`, -1 when it has no estimate): the client must read no estimate from it, never a
 * made-up one, and the mempool's real size. The three calls go out together.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { p2wpkh } from '@scure/btc-signer';
import { netForEndpoints } from '../../../src/protocols/backend-endpoints.ts';
import { createCoreRpcChain } from '../../../src/protocols/bitcoin/chain/core-rpc.ts';
import { startBitcoinNode } from '../../helpers/bitcoin-node.ts';
import { STRANGER } from './fixture.ts';

const MINER = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/9").publicKey!).script;
const node = await startBitcoinNode();

const chain = createCoreRpcChain({
  url: node.rpcUrl,
  network: 'regtest',
  net: netForEndpoints([node.rpcUrl]),
  identity: 'alice',
  authorization: () => node.rpcAuthorization,
});

test('Core RPC: no estimate where the node has none, and the mempool size the node reports', async () => {
  await node.mine(1, MINER);
  const env = await chain.feeEnvironment(6);
  assert.deepEqual(env, {
    estimate: null,
    fastest: null,
    mempoolTx: (await node.rpc('getmempoolinfo')).size,
  });
  assert.equal(env.mempoolTx, 0);
});

test('Core RPC: a node refusing the credentials gives no environment, it fails (BACKEND_REJECTED)', async () => {
  const wrong = createCoreRpcChain({
    url: node.rpcUrl,
    network: 'regtest',
    net: netForEndpoints([node.rpcUrl]),
    identity: 'alice',
    authorization: () => `Basic ${Buffer.from('x:wrong').toString('base64')}`,
  });
  await assert.rejects(wrong.feeEnvironment(6), (e: { code?: string }) => e.code === 'BACKEND_REJECTED');
});
