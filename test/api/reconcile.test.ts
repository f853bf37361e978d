import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { isWardenError } from '../../src/core/errors.ts';
import { Operations } from '../../src/gateway/operations.ts';
import { reconcile, stuckRequests } from '../../src/gateway/reconcile.ts';
import { reconcileFromBackends } from '../../src/gateway/reconcile-backends.ts';
import type { Warden } from '../../src/gateway/warden.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { fund, HARDHAT_CHAIN_ID, rpcCall, startHardhat } from '../helpers/hardhat.ts';
import { evmSendsPolicy } from '../helpers/policies.ts';

const ONE_ETH = 10n ** 18n;
const TENTH = ONE_ETH / 10n;
const RECIPIENT = '0x2222222222222222222222222222222222222222';

const POLICY = evmSendsPolicy('reconcile', HARDHAT_CHAIN_ID, ONE_ETH);

type Fault = 'none' | 'answer-lost' | 'never-arrives';

/**
 * A JSON-RPC hop in front of the real node that breaks the connection on a broadcast, as a
 * flaky network or proxy does: `answer-lost` forwards the transaction (the node has it) and
 * hangs up before answering; `never-arrives` hangs up without forwarding it.
 */
async function faultyHop(nodeUrl: string) {
  const hop = { fault: 'none' as Fault, url: '' };
  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (d) => {
        text += d;
      });
      req.on('end', () => resolve(text));
    });
  const server = createServer(async (req, res) => {
    const text = await body(req);
    const isBroadcast = (JSON.parse(text) as { method?: string }).method === 'eth_sendRawTransaction';
    if (isBroadcast && hop.fault === 'never-arrives') return req.socket.destroy();
    const answer = await fetch(nodeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
    });
    const reply = await answer.text();
    if (isBroadcast && hop.fault === 'answer-lost') return req.socket.destroy();
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hop.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return hop;
}

/** A funded identity behind the faulty hop, an agent token, and a way to send. */
async function treasuryBehindHop() {
  const node = await startHardhat();
  const hop = await faultyHop(node.rpcUrl);
  const g = await startTestGateway({
    identities: ['treasury'],
    policies: { treasury: POLICY },
    evmRpc: new Map([[HARDHAT_CHAIN_ID, hop.url]]),
  });
  const from = g.warden.showIdentity('treasury').evm!.address;
  await fund(node.rpcUrl, from, 10n * ONE_ETH);
  const token = await g.token('agent', { identity: 'treasury', capabilities: ['evm:send'] });
  const send = (value: bigint) =>
    g.call('POST', '/v1/evm/send', {
      token,
      body: {
        chainId: HARDHAT_CHAIN_ID,
        to: RECIPIENT,
        value: value.toString(),
        maxFeePerGas: '20000000000',
        maxPriorityFeePerGas: '1000000000',
      },
    });
  const receipt = (hash: string) => rpcCall(node.rpcUrl, 'eth_getTransactionReceipt', [hash]);
  return { node, hop, g, from, send, receipt };
}

test('a broadcast whose outcome is unknown keeps counting until reconciled: commit if it landed, release if not', async () => {
  const { node, hop, g, send, receipt } = await treasuryBehindHop();
  try {
    // 1. The node has the transaction; the answer is lost on the way back.
    hop.fault = 'answer-lost';
    const landed = await send(3n * TENTH);
    assert.equal(landed.body.request.status, 'unknown', JSON.stringify(landed.body));
    const landedHash = landed.body.request.result.txHash as string;
    assert.ok(await receipt(landedHash), 'it is on chain');

    // 2. The transaction never reaches the node.
    hop.fault = 'never-arrives';
    const lost = await send(3n * TENTH);
    assert.equal(lost.body.request.status, 'unknown');
    assert.equal(await receipt(lost.body.request.result.txHash), null, 'it is nowhere');
    hop.fault = 'none';

    // Both count until an operator says what happened: 0.6 ETH + 0.5 ETH would pass 1 ETH.
    const refused = await send(5n * TENTH);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'LIMIT_EXCEEDED');
    const stuck = await stuckRequests(g.warden);
    assert.deepEqual(
      stuck.map((s) => [s.requestId, s.status]),
      [
        [landed.body.request.requestId, 'unknown'],
        [lost.body.request.requestId, 'unknown'],
      ],
    );

    await reconcile(g.warden, landed.body.request.requestId, 'commit');
    await reconcile(g.warden, lost.body.request.requestId, 'release');
    await assert.rejects(reconcile(g.warden, lost.body.request.requestId, 'commit'), (e) =>
      isWardenError(e, 'REQUEST_NOT_PENDING'),
    );
    assert.deepEqual(await stuckRequests(g.warden), []);

    // The released one frees its budget and its nonce: the next send fills the gap and is mined.
    const after = await send(5n * TENTH);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.request.result.nonce, lost.body.request.result.nonce, 'the nonce was reused');
    assert.ok(await receipt(after.body.request.result.txHash), 'mined, not stuck behind a gap');
    const full = await send(3n * TENTH);
    assert.equal(full.body.error.code, 'LIMIT_EXCEEDED', '0.3 committed + 0.5 + 0.3 > 1 ETH');
    const received = BigInt((await rpcCall(node.rpcUrl, 'eth_getBalance', [RECIPIENT, 'latest'])) as string);
    assert.equal(received, 8n * TENTH);

    const audit = (await g.warden.showAudit({ limit: 100 })).map((r) => r.action);
    assert.equal(audit.filter((a) => a === 'ledger.reconcile').length, 2);
  } finally {
    await g.close();
  }
});

test('--from-chain settles only what the chain proves: a mined transaction; never a missing receipt', async () => {
  const { node, hop, g, from, send, receipt } = await treasuryBehindHop();
  try {
    hop.fault = 'answer-lost';
    const landed = (await send(2n * TENTH)).body.request;
    hop.fault = 'never-arrives';
    const lost = (await send(2n * TENTH)).body.request;
    hop.fault = 'none';
    assert.deepEqual([landed.status, lost.status], ['unknown', 'unknown']);
    const chain = new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]);

    const first = await reconcileFromChain(g.warden, chain);
    assert.deepEqual(
      first.map((v) => [v.requestId, v.verdict]),
      [
        [landed.requestId, 'commit'],
        [lost.requestId, 'unresolved'],
      ],
      'the lost one might still be in some mempool: the chain cannot tell yet',
    );
    assert.match(first[0]!.reason, /^mined in block \d+ \(success\), fee paid \d+ wei$/);
    // The fee it paid, from its receipt, replaces the worst case booked at reserve.
    const mined = (await receipt(landed.result.txHash)) as { gasUsed: string; effectiveGasPrice: string };
    const paid = BigInt(mined.gasUsed) * BigInt(mined.effectiveGasPrice);
    const row = await g.warden.store.db
      .selectFrom('ledger')
      .select(['fee', 'fee_final', 'status', 'amount'])
      .where('request_id', '=', landed.requestId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, {
      fee: paid.toString(),
      fee_final: 1,
      status: 'committed',
      amount: (2n * TENTH).toString(),
    });
    assert.ok(paid < 21_000n * 20_000_000_000n);

    // Its nonce is used by another transaction (as a wallet restored from the same seed would).
    // A node with no receipt says the same of a transaction it pruned or has not caught up with:
    // the budget stays reserved until an operator checks and decides.
    const nonce = lost.result.nonce as number;
    await rpcCall(node.rpcUrl, 'hardhat_setNonce', [from, `0x${(nonce + 1).toString(16)}`]);
    const second = await reconcileFromChain(g.warden, chain);
    assert.deepEqual(
      second.map((v) => [v.requestId, v.verdict]),
      [[lost.requestId, 'unresolved']],
    );
    assert.match(
      second[0]!.reason,
      new RegExp(`^nonce ${nonce} is used on chain but this node has no receipt`),
    );
    assert.equal(
      (await send(7n * TENTH)).body.error.code,
      'LIMIT_EXCEEDED',
      'still counted: 0.2 + 0.2 + 0.7',
    );
    await reconcile(g.warden, lost.requestId, 'release');
    assert.deepEqual(await stuckRequests(g.warden), []);
    assert.equal(await receipt(lost.result.txHash), null);

    // 0.2 committed, 0.2 released: 0.7 now fits in the 1 ETH window, and is mined.
    const next = await send(7n * TENTH);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.request.result.nonce, nonce + 1);
    assert.ok(await receipt(next.body.request.result.txHash));
  } finally {
    await g.close();
  }
});

test('--from-chain: a mined transaction that reverted moved no value but paid its fee, which keeps counting', async () => {
  const { node, hop, g, send, receipt } = await treasuryBehindHop();
  try {
    // A recipient whose code reverts (PUSH1 0 PUSH1 0 REVERT): the transfer is mined and fails.
    await rpcCall(node.rpcUrl, 'hardhat_setCode', [RECIPIENT, '0x60006000fd']);
    hop.fault = 'answer-lost';
    const sent = (await send(2n * TENTH)).body.request;
    hop.fault = 'none';
    assert.equal(sent.status, 'unknown');
    const mined = (await receipt(sent.result.txHash)) as {
      status: string;
      gasUsed: string;
      effectiveGasPrice: string;
    };
    assert.equal(mined.status, '0x0', 'reverted on chain');

    const verdicts = await reconcileFromChain(g.warden, new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]));
    assert.deepEqual(
      verdicts.map((v) => [v.requestId, v.verdict]),
      [[sent.requestId, 'release']],
    );
    assert.match(verdicts[0]!.reason, /\(reverted\), fee paid \d+ wei$/);
    const row = await g.warden.store.db
      .selectFrom('ledger')
      .select(['fee', 'fee_final', 'status', 'amount'])
      .where('request_id', '=', sent.requestId)
      .executeTakeFirstOrThrow();
    const paid = BigInt(mined.gasUsed) * BigInt(mined.effectiveGasPrice);
    assert.ok(paid > 0n);
    assert.deepEqual(row, { fee: paid.toString(), fee_final: 1, status: 'committed', amount: '0' });
    const request = await g.warden.store.db
      .selectFrom('request')
      .select(['status', 'error_code'])
      .where('id', '=', sent.requestId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(request, { status: 'failed', error_code: 'RECONCILED_NOT_EXECUTED' });
  } finally {
    await g.close();
  }
});

/** What `warden ledger reconcile --from-chain` runs, with these EVM nodes. */
function reconcileFromChain(warden: Warden, rpcUrls: ReadonlyMap<number, string>) {
  return reconcileFromBackends(warden, new Operations(warden.vault, warden.store, { evm: { rpcUrls } }));
}
