import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseTransaction, recoverTransactionAddress } from 'viem';
import { fixedClock } from '../../../src/core/clock.ts';
import { isWardenError } from '../../../src/core/errors.ts';
import { signEvmDigest } from '../../../src/keys/evm-signer.ts';
import { Vault } from '../../../src/keys/vault.ts';
import { createNet } from '../../../src/net/http.ts';
import { evmSendIntent, resolveFees } from '../../../src/protocols/evm/intent.ts';
import { nextNonce } from '../../../src/protocols/evm/nonce.ts';
import { parseEvmSendRequest } from '../../../src/protocols/evm/request.ts';
import { createEvmRpc } from '../../../src/protocols/evm/rpc.ts';
import {
  buildSendTransaction,
  serializeSigned,
  signingHash,
  transactionHash,
} from '../../../src/protocols/evm/transaction.ts';
import { fund, HARDHAT_CHAIN_ID, rpcCall, startHardhat } from '../../helpers/hardhat.ts';
import { passphrase, TEST_KDF, tempHome } from '../../helpers/home.ts';

/**
 * The whole EVM send path against a real Hardhat node (chain 42161): raw body → parse → intent →
 * fee estimate → nonce → build → sign inside keys/ through a real vault → broadcast → receipt.
 */
const node = await startHardhat();
console.log(`hardhat node answered eth_chainId after ${node.startupMs} ms`);

const vault = await Vault.create(tempHome('evm-send'), passphrase(), fixedClock(new Date()), TEST_KDF);
vault.setAuditSink(async () => {});
await vault.commitNew('vault.init');
const agent = await vault.createIdentity('agent');
const from = agent.evm!.address;
await fund(node.rpcUrl, from, 10n ** 18n);

const rpc = createEvmRpc({ url: node.rpcUrl, net: createNet({ allowLoopback: true }), identity: 'agent' });
const RECIPIENT = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

/** What the gateway will do, in its order, minus policy and store. */
async function send(body: unknown, localNext: number | null) {
  const raw = JSON.stringify(body);
  const parsed = parseEvmSendRequest(JSON.parse(raw));
  const fees = resolveFees(parsed, await rpc.feeEstimate());
  const digest = createHash('sha256').update(raw).digest('hex');
  const intent = evmSendIntent('agent', parsed, fees, digest, parsed.idempotencyKey);
  const nonce = nextNonce(await rpc.getTransactionCount(from, 'pending'), localNext);
  const tx = buildSendTransaction(intent, nonce);
  const sig = signEvmDigest(vault, 'agent', signingHash(tx));
  const signed = serializeSigned(tx, sig);
  return { parsed, intent, nonce, tx, sig, signed };
}

test('hardhat serves chain 42161 and funds arbitrary addresses', async () => {
  assert.equal(await rpc.chainId(), HARDHAT_CHAIN_ID);
  assert.equal(await rpc.getBalance(from), 10n ** 18n);
  assert.ok(node.startupMs < 60_000);
});

test('a parsed, signed transfer is mined: status success, recipient +value exactly, sender −(value + gas)', async () => {
  const value = 10_000_000_000_000_000n;
  const recipientBefore = await rpc.getBalance(RECIPIENT);
  const senderBefore = await rpc.getBalance(from);
  const { intent, signed, sig, nonce } = await send(
    { chainId: 42161, to: RECIPIENT, value: value.toString(), idempotencyKey: 'e2e-1' },
    null,
  );
  assert.equal(nonce, 0);
  assert.equal(sig.address, from);
  assert.equal(intent.maxFee, 21_000n * (intent.facets.max_fee_per_gas as bigint));
  assert.equal(await recoverTransactionAddress({ serializedTransaction: signed as `0x02${string}` }), from);
  assert.equal(parseTransaction(signed).chainId, 42161);

  const hash = await rpc.sendRawTransaction(signed);
  assert.equal(hash, transactionHash(signed));
  const receipt = await rpc.waitForReceipt(hash, 30_000);
  assert.equal(receipt.status, 'success');
  assert.equal(receipt.from, from.toLowerCase());
  assert.equal(receipt.to, RECIPIENT.toLowerCase());
  assert.equal(receipt.gasUsed, 21_000n);

  assert.equal((await rpc.getBalance(RECIPIENT)) - recipientBefore, value);
  const spent = senderBefore - (await rpc.getBalance(from));
  assert.equal(spent, value + receipt.gasUsed * receipt.effectiveGasPrice!);
  assert.ok(spent <= value + intent.maxFee, 'never more than amount + maxFee');
  assert.equal(await rpc.getTransactionCount(from, 'pending'), 1);
});

test('nonces follow the chain and the local record; a reused nonce is refused by the node', async () => {
  const first = await send({ chainId: 42161, to: RECIPIENT, value: '1000' }, null);
  assert.equal(first.nonce, 1);
  // The local record is ahead of the chain (as after a broadcast the node has not seen yet).
  const ahead = await send({ chainId: 42161, to: RECIPIENT, value: '1000' }, 5);
  assert.equal(ahead.nonce, 5);
  // The local record is behind: the chain's pending count wins.
  const behind = await send({ chainId: 42161, to: RECIPIENT, value: '2000' }, 0);
  assert.equal(behind.nonce, 1);
  assert.notEqual(behind.signed, first.signed);

  const hash = await rpc.sendRawTransaction(first.signed);
  assert.equal((await rpc.waitForReceipt(hash, 30_000)).status, 'success');
  // Same nonce again (a different transaction): the node refuses with "nonce too low", which does
  // not prove that this transaction never left (ours may be the one mined): OUTCOME_UNKNOWN.
  await assert.rejects(
    rpc.sendRawTransaction(behind.signed),
    (e) =>
      isWardenError(e, 'OUTCOME_UNKNOWN') &&
      e.details.backendCode === 'BACKEND_REJECTED' &&
      /nonce/i.test(String(e.details.rpcMessage)),
  );
});

test('caller fees are used as given and bound the cost', async () => {
  const est = await rpc.feeEstimate();
  const maxFeePerGas = est.maxFeePerGas * 3n;
  const { signed, intent } = await send(
    {
      chainId: 42161,
      to: RECIPIENT,
      value: '5',
      maxFeePerGas: maxFeePerGas.toString(),
      maxPriorityFeePerGas: '1',
    },
    null,
  );
  const tx = parseTransaction(signed);
  assert.equal(tx.maxFeePerGas, maxFeePerGas);
  assert.equal(tx.maxPriorityFeePerGas, 1n);
  assert.equal(intent.maxFee, 21_000n * maxFeePerGas);
  const receipt = await rpc.waitForReceipt(await rpc.sendRawTransaction(signed), 30_000);
  assert.equal(receipt.status, 'success');
  assert.ok(receipt.effectiveGasPrice! <= maxFeePerGas);
});

test('a transaction for another chain is refused before broadcast (CHAIN_MISMATCH), and never reaches the node', async () => {
  const { signed } = await send({ chainId: 1, to: RECIPIENT, value: '1000' }, null);
  assert.equal(parseTransaction(signed).chainId, 1);
  const pendingBefore = await rpc.getTransactionCount(from, 'pending');
  await assert.rejects(rpc.sendRawTransaction(signed), (e) => {
    assert.ok(isWardenError(e, 'CHAIN_MISMATCH'));
    assert.equal(e.details.expected, 1);
    assert.equal(e.details.actual, HARDHAT_CHAIN_ID);
    return true;
  });
  assert.equal(await rpc.getTransactionCount(from, 'pending'), pendingBefore);
  assert.equal(await rpcCall(node.rpcUrl, 'eth_getTransactionByHash', [transactionHash(signed)]), null);
});

test('an unfunded identity signs fine but the node refuses the transaction (sanitized; Hardhat words it unlike geth, so the outcome stays unknown)', async () => {
  await vault.createIdentity('broke');
  const brokeAddress = vault.getIdentity('broke').evm!.address;
  const parsed = parseEvmSendRequest({ chainId: 42161, to: RECIPIENT, value: '1000' });
  const intent = evmSendIntent('broke', parsed, await rpc.feeEstimate(), 'ab'.repeat(32), null);
  const tx = buildSendTransaction(intent, await rpc.getTransactionCount(brokeAddress, 'pending'));
  const signed = serializeSigned(tx, signEvmDigest(vault, 'broke', signingHash(tx)));
  await assert.rejects(rpc.sendRawTransaction(signed), (e) => {
    // Hardhat says "Sender doesn't have enough funds", not geth's "insufficient funds": that is
    // not a refusal certainlyNotBroadcast knows, so the send's outcome is OUTCOME_UNKNOWN, with
    // the node's refusal kept beside it.
    assert.ok(isWardenError(e, 'OUTCOME_UNKNOWN'));
    assert.equal(e.details.backendCode, 'BACKEND_REJECTED');
    assert.equal(e.details.protocol, 'evm');
    assert.equal(e.details.legacyCode, 'RPC_ERROR');
    assert.equal(e.details.method, 'eth_sendRawTransaction');
    assert.equal(typeof e.details.rpcCode, 'number');
    assert.match(String(e.details.rpcMessage), /fund/i);
    assert.ok(!JSON.stringify(e.details).includes(signed.slice(4, 80)));
    return true;
  });
});

test('the fee estimate follows the node: 2 × next base fee + tip', async () => {
  const est = await rpc.feeEstimate();
  const history = (await rpcCall(node.rpcUrl, 'eth_feeHistory', ['0x1', 'latest', []])) as {
    baseFeePerGas: string[];
  };
  const tip = BigInt((await rpcCall(node.rpcUrl, 'eth_maxPriorityFeePerGas')) as string);
  const nextBase = BigInt(history.baseFeePerGas.at(-1)!);
  assert.equal(est.maxPriorityFeePerGas, tip);
  assert.equal(est.maxFeePerGas, 2n * nextBase + tip);
});
