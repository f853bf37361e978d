import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { keccak256 } from 'viem';
import { isWardenError } from '../../../src/core/errors.ts';
import { createNet } from '../../../src/net/http.ts';
import { evmSendIntent } from '../../../src/protocols/evm/intent.ts';
import { parseEvmSendRequest } from '../../../src/protocols/evm/request.ts';
import { createEvmRpc, type EvmRpc } from '../../../src/protocols/evm/rpc.ts';
import { buildSendTransaction, serializeSigned } from '../../../src/protocols/evm/transaction.ts';
import { listenOnLoopback } from '../../helpers/peer.ts';

/**
 * The error paths of the RPC client against a scripted, hostile JSON-RPC server on loopback: what a
 * real node never does on purpose (lie, stall, send garbage) but a compromised or broken one might.
 * The happy path runs against a real Hardhat node in send.test.ts.
 */
type Reply = { raw: string; status?: number } | { result: unknown } | { error: unknown } | 'hang';
type Script = (method: string, params: unknown[]) => Reply;

let script: Script = () => ({ error: { code: -32601, message: 'no script' } });
const calls: { method: string; body: string }[] = [];

const server = createServer((req, res: ServerResponse) => {
  let body = '';
  req.on('data', (d) => {
    body += d;
  });
  req.on('end', () => {
    const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
    calls.push({ method, body });
    const reply = script(method, params);
    if (reply === 'hang') return;
    if ('raw' in reply) {
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      res.end(reply.raw);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id, ...reply }));
  });
});
const URL_WITH_KEY = `${await listenOnLoopback(server)}/v2/SECRET-KEY`;

function rpc(timeoutMs = 2_000, maxResponseBytes?: number): EvmRpc {
  const net = createNet({ allowLoopback: true, timeoutMs });
  return createEvmRpc({
    url: URL_WITH_KEY,
    net,
    identity: 'alice',
    ...(maxResponseBytes ? { maxResponseBytes } : {}),
  });
}

function use(s: Script): void {
  script = s;
  calls.length = 0;
}

const ADDRESS = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed';

/** A serialized EIP-1559 transaction for `chainId`, built by the real code path. */
function signedFor(chainId: number): `0x${string}` {
  const intent = evmSendIntent(
    'alice',
    parseEvmSendRequest({ chainId, to: ADDRESS, value: '1' }),
    { maxFeePerGas: 100n, maxPriorityFeePerGas: 1n },
    'ab'.repeat(32),
    null,
  );
  // Any valid-looking signature: the client checks the chain, not who signed.
  return serializeSigned(buildSendTransaction(intent, 0), {
    r: `0x${'11'.repeat(32)}`,
    s: `0x${'22'.repeat(32)}`,
    yParity: 0,
  });
}

test('quantities are parsed; the request is well-formed JSON-RPC', async () => {
  use((method) => {
    if (method === 'eth_chainId') return { result: '0xa4b1' };
    if (method === 'eth_getTransactionCount') return { result: '0x1f' };
    if (method === 'eth_getBalance') return { result: '0xde0b6b3a7640000' };
    return { error: { code: -32601, message: 'nope' } };
  });
  const client = rpc();
  assert.equal(await client.chainId(), 42161);
  assert.equal(await client.getTransactionCount(ADDRESS, 'pending'), 31);
  assert.equal(await client.getBalance(ADDRESS), 10n ** 18n);
  const bodies = calls.map((c) => JSON.parse(c.body));
  assert.deepEqual(bodies[1].params, [ADDRESS, 'pending']);
  assert.deepEqual(bodies[2].params, [ADDRESS, 'latest']);
  assert.equal(bodies[0].jsonrpc, '2.0');
  await client.assertChainId(42161);
  await assert.rejects(client.assertChainId(1), (e) => isWardenError(e, 'CHAIN_MISMATCH'));
});

test('a JSON-RPC error becomes BACKEND_REJECTED (protocol evm, legacy RPC_ERROR) with a sanitized code and message, without the request body', async () => {
  use(() => ({ error: { code: -32601, message: 'method\u0000 not found', data: 'x' } }));
  await assert.rejects(rpc().getBalance(ADDRESS), (e) => {
    assert.ok(isWardenError(e, 'BACKEND_REJECTED'));
    assert.deepEqual(e.details, {
      protocol: 'evm',
      method: 'eth_getBalance',
      httpStatus: 200,
      rpcCode: -32601,
      rpcMessage: 'method  not found',
      legacyCode: 'RPC_ERROR',
    });
    return true;
  });
  const signed = signedFor(42161);
  use((method) =>
    method === 'eth_chainId'
      ? { result: '0xa4b1' }
      : {
          error: {
            code: -32000,
            message: `nonce too low\u0000\u001b[31m ${'x'.repeat(5_000)}`,
            data: signed,
          },
        },
  );
  // "nonce too low" from the send itself does not prove it was refused: the outcome is unknown,
  // with everything the node said.
  await assert.rejects(rpc().sendRawTransaction(signed), (e) => {
    assert.ok(isWardenError(e, 'OUTCOME_UNKNOWN'));
    assert.equal(e.details.protocol, 'evm');
    assert.equal(e.details.backendCode, 'BACKEND_REJECTED');
    assert.equal(e.details.legacyCode, 'RPC_ERROR');
    assert.equal(e.details.method, 'eth_sendRawTransaction');
    assert.equal(e.details.rpcCode, -32000);
    const message = String(e.details.rpcMessage);
    assert.ok(message.startsWith('nonce too low'));
    assert.ok(message.length <= 201, `${message.length}`);
    assert.ok(![...message].some((c) => c.charCodeAt(0) < 0x20));
    const shown = JSON.stringify({ m: e.message, d: e.details });
    assert.ok(!shown.includes(signed.slice(10, 60)), 'no request body');
    assert.ok(!shown.includes('SECRET'), 'no URL path');
    return true;
  });
});

test('garbage answers become BACKEND_REJECTED', async () => {
  const cases: [string, Reply][] = [
    ['not json', { raw: 'hello' }],
    ['html error page', { raw: '<html>502</html>', status: 502 }],
    ['array', { raw: '[]' }],
    ['no jsonrpc', { raw: '{"id":1,"result":"0x1"}' }],
    ['wrong id', { raw: '{"jsonrpc":"2.0","id":999,"result":"0x1"}' }],
    ['no result', { raw: '{"jsonrpc":"2.0","id":1}' }],
    ['decimal number', { result: 42161 }],
    ['decimal string', { result: '42161' }],
    ['bad hex', { result: '0xzz' }],
    ['empty hex', { result: '0x' }],
    ['huge', { result: `0x${'f'.repeat(65)}` }],
    ['chain 0', { result: '0x0' }],
    ['null', { result: null }],
    ['http 500 with result', { raw: '{"jsonrpc":"2.0","id":1,"result":"0xa4b1"}', status: 500 }],
  ];
  for (const [label, reply] of cases) {
    use(() => reply);
    await assert.rejects(
      rpc().chainId(),
      (e) =>
        isWardenError(e, 'BACKEND_REJECTED') &&
        e.details.protocol === 'evm' &&
        e.details.legacyCode === 'RPC_ERROR',
      label,
    );
  }
});

test('an oversized answer is refused', async () => {
  use(() => ({ raw: JSON.stringify({ jsonrpc: '2.0', id: 1, result: '0x1', pad: 'x'.repeat(50_000) }) }));
  await assert.rejects(
    rpc(2_000, 10_000).chainId(),
    (e) => isWardenError(e, 'BACKEND_REJECTED') && e.details.reason === 'too_large',
  );
});

test('a node that does not answer gives BACKEND_UNREACHABLE (legacy RPC_UNREACHABLE); so does a closed port', async () => {
  use(() => 'hang');
  await assert.rejects(rpc(300).chainId(), (e) => {
    assert.ok(isWardenError(e, 'BACKEND_UNREACHABLE'));
    assert.equal(e.details.reason, 'timeout');
    assert.equal(e.details.protocol, 'evm');
    assert.equal(e.details.method, 'eth_chainId');
    assert.equal(e.details.legacyCode, 'RPC_UNREACHABLE');
    assert.doesNotMatch(String(e.details.origin), /SECRET/);
    return true;
  });
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const closed = createEvmRpc({
    url: `http://127.0.0.1:${port}/`,
    net: createNet({ allowLoopback: true }),
    identity: null,
  });
  await assert.rejects(closed.getBalance(ADDRESS), (e) => isWardenError(e, 'BACKEND_UNREACHABLE'));
});

test('sendRawTransaction refuses before broadcast when the node serves another chain', async () => {
  use((method) => (method === 'eth_chainId' ? { result: '0x1' } : { result: `0x${'00'.repeat(32)}` }));
  await assert.rejects(rpc().sendRawTransaction(signedFor(42161)), (e) => {
    assert.ok(isWardenError(e, 'CHAIN_MISMATCH'));
    assert.equal(e.details.expected, 42161);
    assert.equal(e.details.actual, 1);
    return true;
  });
  assert.deepEqual(
    calls.map((c) => c.method),
    ['eth_chainId'],
  );
});

test('sendRawTransaction refuses a node that reports the hash of another transaction', async () => {
  const signed = signedFor(42161);
  use((method) => (method === 'eth_chainId' ? { result: '0xa4b1' } : { result: `0x${'00'.repeat(32)}` }));
  // The node took it and answered nonsense: it may well be in its mempool.
  await assert.rejects(
    rpc().sendRawTransaction(signed),
    (e) =>
      isWardenError(e, 'OUTCOME_UNKNOWN') &&
      e.details.reason === 'malformed' &&
      e.details.backendCode === 'BACKEND_REJECTED' &&
      e.details.legacyCode === 'RPC_ERROR',
  );
  use((method) => (method === 'eth_chainId' ? { result: '0xa4b1' } : { result: keccak256(signed) }));
  assert.equal(await rpc().sendRawTransaction(signed), keccak256(signed));
  assert.deepEqual(
    calls.map((c) => c.method),
    ['eth_chainId', 'eth_sendRawTransaction'],
  );
});

test('sendRawTransaction: a certain refusal stays BACKEND_REJECTED, anything else after sending is OUTCOME_UNKNOWN, failures of the chain check before it are not', async () => {
  const signed = signedFor(42161);
  use((method) =>
    method === 'eth_chainId'
      ? { result: '0xa4b1' }
      : { error: { code: -32000, message: 'insufficient funds for gas * price + value' } },
  );
  await assert.rejects(
    rpc().sendRawTransaction(signed),
    (e) =>
      isWardenError(e, 'BACKEND_REJECTED') &&
      e.details.method === 'eth_sendRawTransaction' &&
      e.details.legacyCode === 'RPC_ERROR',
  );
  // The node stalls once it has the transaction: it may have taken it.
  use((method) => (method === 'eth_chainId' ? { result: '0xa4b1' } : 'hang'));
  await assert.rejects(rpc(300).sendRawTransaction(signed), (e) => {
    assert.ok(isWardenError(e, 'OUTCOME_UNKNOWN'));
    assert.equal(e.details.protocol, 'evm');
    assert.equal(e.details.method, 'eth_sendRawTransaction');
    assert.equal(e.details.reason, 'timeout');
    assert.equal(e.details.backendCode, 'BACKEND_UNREACHABLE');
    assert.equal(e.details.legacyCode, 'RPC_UNREACHABLE');
    return true;
  });
  // A proxy's 502: it may have forwarded the transaction.
  use((method) => (method === 'eth_chainId' ? { result: '0xa4b1' } : { raw: 'Bad Gateway', status: 502 }));
  await assert.rejects(
    rpc().sendRawTransaction(signed),
    (e) => isWardenError(e, 'OUTCOME_UNKNOWN') && e.details.httpStatus === 502,
  );
  // The chain check fails: nothing was sent, so it is the check's own error.
  use(() => 'hang');
  await assert.rejects(
    rpc(300).sendRawTransaction(signed),
    (e) => isWardenError(e, 'BACKEND_UNREACHABLE') && e.details.method === 'eth_chainId',
  );
  assert.deepEqual(
    calls.map((c) => c.method),
    ['eth_chainId'],
  );
});

test('sendRawTransaction refuses input that is not a chain-bound transaction', async () => {
  use(() => ({ result: '0xa4b1' }));
  for (const bad of ['', '0x', '0x0', 'deadbeef', '0x02zz', '0x02']) {
    await assert.rejects(
      rpc().sendRawTransaction(bad as `0x${string}`),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
      bad,
    );
  }
  assert.deepEqual(calls, []);
});

test('feeEstimate: 2 × next base fee + tip; falls back to feeHistory rewards and to the latest block', async () => {
  const history = {
    oldestBlock: '0x1',
    baseFeePerGas: ['0x64', '0x6e', '0xc8'],
    reward: [['0x5'], ['0x9'], ['0x7']],
  };
  use((method) => {
    if (method === 'eth_feeHistory') return { result: history };
    if (method === 'eth_maxPriorityFeePerGas') return { result: '0x3' };
    return { error: { code: -32601, message: 'no' } };
  });
  assert.deepEqual(await rpc().feeEstimate(), { maxFeePerGas: 2n * 200n + 3n, maxPriorityFeePerGas: 3n });

  use((method) =>
    method === 'eth_feeHistory' ? { result: history } : { error: { code: -32601, message: 'no' } },
  );
  assert.deepEqual(await rpc().feeEstimate(), { maxFeePerGas: 2n * 200n + 7n, maxPriorityFeePerGas: 7n });

  use((method) => {
    if (method === 'eth_getBlockByNumber') return { result: { number: '0x5', baseFeePerGas: '0x3e8' } };
    if (method === 'eth_maxPriorityFeePerGas') return { result: '0x0' };
    return { error: { code: -32601, message: 'no' } };
  });
  assert.deepEqual(await rpc().feeEstimate(), { maxFeePerGas: 2_000n, maxPriorityFeePerGas: 0n });

  use((method) =>
    method === 'eth_getBlockByNumber'
      ? { result: { number: '0x5' } }
      : { error: { code: -32601, message: 'no' } },
  );
  await assert.rejects(
    rpc().feeEstimate(),
    (e) => isWardenError(e, 'BACKEND_REJECTED') && e.details.reason === 'no_base_fee',
  );

  use((method) =>
    method === 'eth_feeHistory' ? { result: { baseFeePerGas: ['0x1', 'lots'] } } : { result: '0x1' },
  );
  await assert.rejects(rpc().feeEstimate(), (e) => isWardenError(e, 'BACKEND_REJECTED'));
});

const HASH = `0x${'ab'.repeat(32)}` as const;
const receipt = {
  transactionHash: HASH,
  status: '0x1',
  blockNumber: '0x10',
  gasUsed: '0x5208',
  effectiveGasPrice: '0x3b9aca00',
  from: ADDRESS,
  to: ADDRESS,
};

test('receipts are parsed and checked; waitForReceipt polls until one appears', async () => {
  let polls = 0;
  use(() => {
    polls++;
    return { result: polls < 3 ? null : receipt };
  });
  const got = await rpc().waitForReceipt(HASH, 5_000, 10);
  assert.equal(polls, 3);
  assert.deepEqual(got, {
    transactionHash: HASH,
    status: 'success',
    blockNumber: 16n,
    gasUsed: 21_000n,
    effectiveGasPrice: 1_000_000_000n,
    l1Fee: null,
    from: ADDRESS,
    to: ADDRESS,
  });
  // OP Stack chains report the L1 data fee they charge on top of the gas.
  use(() => ({ result: { ...receipt, l1Fee: '0x64' } }));
  assert.equal((await rpc().getTransactionReceipt(HASH))?.l1Fee, 100n);
  use(() => ({ result: { ...receipt, status: '0x0' } }));
  assert.equal((await rpc().getTransactionReceipt(HASH))?.status, 'reverted');
  for (const bad of [
    { ...receipt, transactionHash: `0x${'cd'.repeat(32)}` },
    { ...receipt, status: '0x2' },
    { ...receipt, status: true },
    { ...receipt, from: 'me' },
    { ...receipt, blockNumber: 16 },
    { ...receipt, l1Fee: 100 },
    'receipt',
  ]) {
    use(() => ({ result: bad }));
    await assert.rejects(rpc().getTransactionReceipt(HASH), (e) => isWardenError(e, 'BACKEND_REJECTED'));
  }
  await assert.rejects(rpc().getTransactionReceipt('0x1234' as `0x${string}`), (e) =>
    isWardenError(e, 'INVALID_ARGUMENT'),
  );
});

test('waitForReceipt gives RECEIPT_TIMEOUT when no receipt comes, also across a stalling node', async () => {
  use(() => ({ result: null }));
  const started = performance.now();
  await assert.rejects(rpc().waitForReceipt(HASH, 300, 50), (e) => isWardenError(e, 'RECEIPT_TIMEOUT'));
  assert.ok(performance.now() - started < 3_000);
  use(() => 'hang');
  await assert.rejects(
    rpc(100).waitForReceipt(HASH, 400, 50),
    (e) => isWardenError(e, 'RECEIPT_TIMEOUT') && e.details.lastError === 'timeout',
  );
});

test('addresses are checked before any request', async () => {
  use(() => ({ result: '0x0' }));
  for (const bad of ['', '0x1234', 'alice', `0x${'g'.repeat(40)}`]) {
    await assert.rejects(rpc().getBalance(bad), (e) => isWardenError(e, 'INVALID_ADDRESS'));
    await assert.rejects(rpc().getTransactionCount(bad, 'pending'), (e) =>
      isWardenError(e, 'INVALID_ADDRESS'),
    );
  }
  assert.deepEqual(calls, []);
});

test('an RPC URL that is not a URL, or loopback without allowLoopback, is refused', async () => {
  assert.throws(
    () => createEvmRpc({ url: 'nope', net: createNet(), identity: null }),
    (e) => isWardenError(e, 'INVALID_ARGUMENT'),
  );
  const client = createEvmRpc({ url: URL_WITH_KEY, net: createNet(), identity: null });
  use(() => ({ result: '0xa4b1' }));
  await assert.rejects(client.chainId(), (e) => isWardenError(e, 'NET_URL_REFUSED'));
  assert.deepEqual(calls, []);
});
