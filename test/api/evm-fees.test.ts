import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedClock } from '../../src/core/clock.ts';
import { Operations } from '../../src/gateway/operations.ts';
import { reconcileFromBackends } from '../../src/gateway/reconcile-backends.ts';
import type { Warden } from '../../src/gateway/warden.ts';
import { POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { agentWithPolicy, initCliVault } from '../helpers/cli.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { fund, HARDHAT_CHAIN_ID, rpcCall, startHardhat } from '../helpers/hardhat.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

const ONE_ETH = 10n ** 18n;
const RECIPIENT = '0x3333333333333333333333333333333333333333';
const MAX_FEE_PER_GAS = 200_000_000_000n; // 200 gwei: the most guidelines-default allows
const WORST_FEE = 21_000n * MAX_FEE_PER_GAS; // 0.0042 ETH per plain transfer
const DAY_CAP = 2n * 10n ** 17n; // guidelines-default: 0.2 ETH per rolling 24 hours
const MINUTE = 60_000;

interface Receipt {
  gasUsed: string;
  effectiveGasPrice: string;
}

// One node for the file: heavy peers start once per test file.
const node = await startHardhat();

test('guidelines-default: 1 wei sends at 200 gwei are refused once their worst-case fees reach the 0.2 ETH cap; receipts then book the fees paid', async () => {
  assert.equal(HARDHAT_CHAIN_ID, 42161, 'Arbitrum One: a chain guidelines-default allows');
  const clock = fixedClock(new Date('2026-03-01T00:00:00Z'));
  const g = await startTestGateway({
    identities: ['treasury'],
    policies: { treasury: POLICY_TEMPLATES['guidelines-default']! },
    evmRpc: new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]),
    clock,
  });
  const from = g.warden.showIdentity('treasury').evm!.address;
  await fund(node.rpcUrl, from, 10n * ONE_ETH);
  const agent = await g.token('agent', { identity: 'treasury', capabilities: ['evm:send'] });
  const operator = await g.token('operator');
  const send = () =>
    g.call('POST', '/v1/evm/send', {
      token: agent,
      body: {
        chainId: HARDHAT_CHAIN_ID,
        to: RECIPIENT,
        value: '1',
        maxFeePerGas: MAX_FEE_PER_GAS.toString(),
        maxPriorityFeePerGas: '1000000000',
      },
    });

  // A first payment to an address is held: an operator approves it, and it counts from then on.
  const first = await send();
  assert.equal(first.status, 202, JSON.stringify(first.body));
  const approved = await g.call('POST', `/v1/approvals/${first.body.request.requestId}/approve`, {
    token: operator,
    body: {},
  });
  assert.equal(approved.body.request.status, 'done', JSON.stringify(approved.body));

  // Each send books 1 wei + 0.0042 ETH of worst-case fee: 47 fit in 0.2 ETH, the 48th does not.
  // Six minutes apart, so that the 10 sends per hour never decide.
  const fits = DAY_CAP / (1n + WORST_FEE);
  assert.equal(fits, 47n);
  const hashes: string[] = [approved.body.request.result.txHash];
  for (let i = 1; i < Number(fits); i++) {
    clock.advance(6 * MINUTE);
    const r = await send();
    assert.equal(r.status, 200, `send ${i + 1}: ${JSON.stringify(r.body)}`);
    hashes.push(r.body.request.result.txHash);
  }
  clock.advance(6 * MINUTE);
  const refused = await send();
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'LIMIT_EXCEEDED');
  const decision = refused.body.error.details.request.decision;
  assert.equal(decision.decidingRule, 'evm-native');
  assert.match(decision.reason, /with up to 0\.0042 ETH \(4200000000000000 wei\) in fees/);
  assert.match(decision.reason, /24h value window of rule evm-native/);
  const day = decision.trail
    .find((t: { rule: string }) => t.rule === 'evm-native')
    .limits.find((l: { limit: string }) => l.limit === '24h');
  assert.equal(BigInt(day.used), fits * (1n + WORST_FEE), 'committed: value and worst-case fees');
  assert.equal(BigInt(day.request), 1n + WORST_FEE);

  // The chain knows what each one paid: far less than the worst case. Reconciling books that.
  const verdicts = await reconcileFromChain(g.warden, new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]));
  assert.equal(verdicts.length, hashes.length);
  assert.ok(verdicts.every((v) => v.verdict === 'fee'));
  let paid = 0n;
  for (const hash of hashes) {
    const receipt = (await rpcCall(node.rpcUrl, 'eth_getTransactionReceipt', [hash])) as Receipt;
    paid += BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
  }
  const rows = await g.warden.store.db
    .selectFrom('ledger')
    .select(['fee', 'fee_final', 'amount', 'status'])
    .where('identity', '=', 'treasury')
    .execute();
  assert.equal(rows.length, hashes.length);
  assert.ok(rows.every((r) => r.status === 'committed' && r.fee_final === 1 && r.amount === '1'));
  assert.equal(
    rows.reduce((sum, r) => sum + BigInt(r.fee), 0n),
    paid,
  );
  assert.ok(paid < fits * WORST_FEE);
  // A second run finds nothing left to settle; the window now has room again.
  assert.deepEqual(await reconcileFromChain(g.warden, new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]])), []);
  const after = await send();
  assert.equal(after.status, 200, JSON.stringify(after.body));
  await g.close();
});

test('the running server books the fee a send really paid by itself (--fee-follow), no reconcile needed', async () => {
  const { dir, w, start } = await initCliVault('fee-follow', TEST_PASSPHRASE);
  assert.equal((await w('identity', 'create', 'payer')).code, 0);
  const address = JSON.parse((await w('--json', 'identity', 'show', 'payer')).stdout).evm.address;
  await fund(node.rpcUrl, address, ONE_ETH);
  const token = await agentWithPolicy(
    w,
    dir,
    'payer',
    `version: 1\nname: p\nrisk: { tolerance: high }\nnew_destination: allow\nrules:\n  - { id: sends, match: { protocol: evm, action: send }, effect: allow }\n`,
    'evm:send',
  );
  const server = await start('--evm-rpc', `${HARDHAT_CHAIN_ID}=${node.rpcUrl}`, '--fee-follow', '1');
  const sent = await fetch(`${server.url}/v1/evm/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      chainId: HARDHAT_CHAIN_ID,
      to: RECIPIENT,
      value: '5',
      maxFeePerGas: MAX_FEE_PER_GAS.toString(),
      maxPriorityFeePerGas: '1000000000',
    }),
  });
  const body = (await sent.json()) as { request: { status: string; result: { txHash: string } } };
  assert.equal(body.request.status, 'done', JSON.stringify(body));
  const receipt = (await rpcCall(node.rpcUrl, 'eth_getTransactionReceipt', [
    body.request.result.txHash,
  ])) as Receipt;
  const paid = BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
  assert.ok(paid < WORST_FEE);
  const fees = async () => JSON.parse((await w('--json', 'ledger', 'show')).stdout)[0].fees as string;
  const deadline = Date.now() + 20_000;
  while ((await fees()) !== paid.toString() && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 500));
  assert.equal(await fees(), paid.toString(), 'then at what the receipt says it paid');
  assert.equal(await server.stop(), 0);
});

/** What `warden ledger reconcile --from-chain` runs, with these EVM nodes. */
function reconcileFromChain(warden: Warden, rpcUrls: ReadonlyMap<number, string>) {
  return reconcileFromBackends(warden, new Operations(warden.vault, warden.store, { evm: { rpcUrls } }));
}
