import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agentWithPolicy, initCliVault } from '../helpers/cli.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { fund, HARDHAT_CHAIN_ID, rpcCall, startHardhat } from '../helpers/hardhat.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

const ONE_ETH = 10n ** 18n;
const CENT = ONE_ETH / 100n;
/** Fees are money: each send books 0.01 ETH plus its worst-case fee, 21000 gas × 20 gwei. */
const WORST_FEE = 21_000n * 20_000_000_000n;
const CAP = 100n * (CENT + WORST_FEE);
const RECIPIENT = '0x1111111111111111111111111111111111111111';

const POLICY = `
version: 1
name: evm-budget
risk: { tolerance: high }
new_destination: allow
rules:
  - id: arbitrum-sends
    match: { protocol: evm, action: send, chain_id: ${HARDHAT_CHAIN_ID} }
    effect: allow
    max_fee_per_gas: "100000000000"
    limits:
      - { window: 24h, max_value: "${CAP}" }
`;

const send = (i: number) => ({
  chainId: HARDHAT_CHAIN_ID,
  to: RECIPIENT,
  value: CENT.toString(),
  maxFeePerGas: '20000000000',
  maxPriorityFeePerGas: '1000000000',
  idempotencyKey: `budget-send-${String(i).padStart(4, '0')}`,
});

async function balance(rpcUrl: string, address: string): Promise<bigint> {
  return BigInt((await rpcCall(rpcUrl, 'eth_getBalance', [address, 'latest'])) as string);
}

describe('EVM sends against a real node: the budget is exact under concurrency and restarts', () => {
  test('1,000 concurrent sends of 0.01 ETH (+ worst-case fee) against 100 of them per 24 h: exactly 100 signed and broadcast', async () => {
    const node = await startHardhat();
    const g = await startTestGateway({
      identities: ['treasury'],
      policies: { treasury: POLICY },
      evmRpc: new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]),
      rateLimits: () => ({ max: 10_000, windowMs: 60_000 }),
    });
    const from = g.warden.showIdentity('treasury').evm!.address;
    await fund(node.rpcUrl, from, 100n * ONE_ETH);
    const before = await balance(node.rpcUrl, RECIPIENT);
    const token = await g.token('agent', { identity: 'treasury', capabilities: ['evm:send'] });

    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => g.call('POST', '/v1/evm/send', { token, body: send(i) })),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 403);
    assert.equal(
      ok.length,
      100,
      JSON.stringify(results.find((r) => r.status !== 200 && r.status !== 403)?.body),
    );
    assert.equal(refused.length, 900);
    assert.ok(refused.every((r) => r.body.error.code === 'LIMIT_EXCEEDED'));
    const nonces = ok.map((r) => r.body.request.result.nonce).sort((a: number, b: number) => a - b);
    assert.deepEqual(
      nonces,
      Array.from({ length: 100 }, (_, i) => i),
      'nonces 0..99, no gap, no reuse',
    );

    const ledger = await g.call('GET', '/v1/ledger', { token });
    const committed = ledger.body.totals.filter((t: { status: string }) => t.status === 'committed');
    assert.deepEqual(
      committed.map((t: { total: string; count: number }) => [t.total, t.count]),
      [[ONE_ETH.toString(), 100]],
    );
    assert.equal(ledger.body.totals.filter((t: { status: string }) => t.status !== 'committed').length, 0);
    // On chain, exactly 1 ETH arrived (Hardhat mines every transaction at once).
    assert.equal((await balance(node.rpcUrl, RECIPIENT)) - before, ONE_ETH);
    // A denial explains itself with the numbers of the window.
    const limit = refused[0]!.body.error.details.request.decision.trail[0].limits.find(
      (l: { limit: string }) => l.limit === '24h',
    );
    assert.equal(limit.cap, CAP.toString());
    assert.equal(BigInt(limit.request), CENT + WORST_FEE, 'the request counts its worst-case fee');
    assert.ok(BigInt(limit.used) + BigInt(limit.reserved) + BigInt(limit.request) > CAP);
  });

  test('the budget does not reset when the server is killed and restarted in the middle', async () => {
    const node = await startHardhat();
    const { dir, w, start } = await initCliVault('evm-restart', TEST_PASSPHRASE);
    const identity = JSON.parse(
      (await w('--json', 'identity', 'create', 'treasury', '--network', 'regtest')).stdout,
    );
    const token = await agentWithPolicy(w, dir, 'treasury', POLICY, 'evm:send');
    await fund(node.rpcUrl, identity.evm.address, 100n * ONE_ETH);
    const before = await balance(node.rpcUrl, RECIPIENT);

    // Fees stay booked at their worst case here (no fee following): the counts below are exact
    // only then. A server that books the fees paid while the batch runs frees budget for a few more.
    const startServer = () => start('--evm-rpc', `${HARDHAT_CHAIN_ID}=${node.rpcUrl}`, '--fee-follow', '0');
    const post = (url: string, i: number) =>
      fetch(`${url}/v1/evm/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(send(i)),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

    const first = await startServer();
    const batch1 = await Promise.all(Array.from({ length: 40 }, (_, i) => post(first.url, i)));
    assert.equal(batch1.filter((r) => r.status === 200).length, 40);
    // A crash, not a graceful stop: SIGKILL leaves no chance to flush anything.
    await first.stop('SIGKILL');

    const second = await startServer();
    const batch2 = await Promise.all(Array.from({ length: 960 }, (_, i) => post(second.url, 40 + i)));
    const ok2 = batch2.filter((r) => r.status === 200).length;
    assert.equal(ok2, 60, 'only the 0.6 ETH left of the window could be spent after the restart');
    assert.equal(
      batch2.filter((r) => r.status === 403 && r.body.error.code === 'LIMIT_EXCEEDED').length,
      900,
      JSON.stringify(batch2.find((r) => r.status !== 200 && r.body.error?.code !== 'LIMIT_EXCEEDED')),
    );
    // Retrying a request of the first batch after the restart returns its first result.
    const retry = await post(second.url, 0);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.request.requestId, batch1[0]!.body.request.requestId);
    assert.equal(await second.stop('SIGTERM'), 0);

    const totals = JSON.parse((await w('--json', 'ledger', 'show')).stdout);
    assert.deepEqual(
      totals.map((t: { status: string; total: string; fees: string; count: number }) => [
        t.status,
        t.total,
        t.fees,
        t.count,
      ]),
      // Fees are money: each send is booked with its worst case (21000 gas at 20 gwei) until reconciled.
      [['committed', ONE_ETH.toString(), (100n * 21_000n * 20_000_000_000n).toString(), 100]],
    );
    assert.equal((await balance(node.rpcUrl, RECIPIENT)) - before, ONE_ETH);
    const verify = await w('audit', 'verify');
    assert.equal(verify.code, 0, verify.stderr);
  });
});
