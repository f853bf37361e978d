import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBigInt, parseTransaction, recoverTransactionAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { utf8 } from '../../../src/core/bytes.ts';
import { fixedClock } from '../../../src/core/clock.ts';
import { isWardenError } from '../../../src/core/errors.ts';
import type { Intent } from '../../../src/core/intent.ts';
import { signEvmDigest } from '../../../src/keys/evm-signer.ts';
import { Vault } from '../../../src/keys/vault.ts';
import { evmSendIntent } from '../../../src/protocols/evm/intent.ts';
import { parseEvmSendRequest } from '../../../src/protocols/evm/request.ts';
import {
  buildSendTransaction,
  serializedChainId,
  serializeSigned,
  signingHash,
  transactionHash,
  unsignedSerialization,
} from '../../../src/protocols/evm/transaction.ts';
import { passphrase, TEST_KDF, tempHome } from '../../helpers/home.ts';

// Hardhat's public development mnemonic and its account #0 (address and key are printed by every
// `hardhat node`; they guard nothing). Used only as an independent oracle below.
const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk';
const HARDHAT_ACCOUNT0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const HARDHAT_KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const DIGEST = 'cd'.repeat(32);

const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
const vault = await Vault.create(tempHome('evm-tx'), passphrase(), clock, TEST_KDF);
vault.setAuditSink(async () => {});
await vault.commitNew('vault.init');
const agent = await vault.createIdentity('agent');
const hh = await vault.importIdentity('hh', { mnemonic: utf8(HARDHAT_MNEMONIC) });

/** The recipient an EVM send intent carries in its detail. */
function recipient(intent: Intent): string {
  return (intent.detail as { to: string }).to;
}

function sendIntent(body: Record<string, unknown>): Intent {
  const parsed = parseEvmSendRequest({
    chainId: 42161,
    to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    value: '10000000000000000',
    ...body,
  });
  return evmSendIntent(
    'agent',
    parsed,
    { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000n },
    DIGEST,
    null,
  );
}

test('the imported Hardhat mnemonic gives Hardhat account #0 at EVM_PATH', () => {
  assert.equal(hh.evm?.address, HARDHAT_ACCOUNT0);
  assert.notEqual(agent.evm?.address, HARDHAT_ACCOUNT0);
});

test('a signed EIP-1559 transfer recovers to the identity address and carries exactly the intent', async () => {
  const intent = sendIntent({});
  const tx = buildSendTransaction(intent, 7);
  assert.ok(unsignedSerialization(tx).startsWith('0x02'));
  const sig = signEvmDigest(vault, 'agent', signingHash(tx));
  assert.equal(sig.address, agent.evm?.address);
  const signed = serializeSigned(tx, sig);
  assert.equal(
    await recoverTransactionAddress({ serializedTransaction: signed as `0x02${string}` }),
    agent.evm?.address,
  );
  const parsed = parseTransaction(signed);
  assert.equal(parsed.type, 'eip1559');
  assert.equal(parsed.chainId, 42161);
  assert.equal(parsed.nonce, 7);
  assert.equal(parsed.to, '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed');
  assert.equal(parsed.value, 10_000_000_000_000_000n);
  assert.equal(parsed.gas, 21_000n);
  assert.equal(parsed.maxFeePerGas, 2_000_000_000n);
  assert.equal(parsed.maxPriorityFeePerGas, 1_000_000n);
  assert.equal(parsed.data, undefined);
  assert.equal(serializedChainId(signed), 42161);
  assert.match(transactionHash(signed), /^0x[0-9a-f]{64}$/);
});

test('signatures are low-S and deterministic, and match viem signing with the same (public test) key', async () => {
  const viemAccount = privateKeyToAccount(HARDHAT_KEY0);
  // 24 different transactions: a signer that skipped low-S normalization would fail with odds 1 - 2^-24.
  for (let nonce = 0; nonce < 24; nonce++) {
    const tx = buildSendTransaction(sendIntent({ value: String(123_456_789 + nonce) }), nonce);
    const sig = signEvmDigest(vault, 'hh', signingHash(tx));
    assert.equal(sig.address, HARDHAT_ACCOUNT0);
    assert.ok(hexToBigInt(sig.s) <= secp256k1.Point.CURVE().n / 2n, 'low S');
    assert.deepEqual(signEvmDigest(vault, 'hh', signingHash(tx)), sig);
    // Independent oracle: viem's own signer over the same fields gives byte-identical output.
    assert.equal(serializeSigned(tx, sig), await viemAccount.signTransaction(tx));
  }
});

test('a transaction for another chain commits to that chain id', () => {
  const tx = buildSendTransaction(sendIntent({ chainId: 1 }), 0);
  const signed = serializeSigned(tx, signEvmDigest(vault, 'agent', signingHash(tx)));
  assert.equal(parseTransaction(signed).chainId, 1);
  assert.notEqual(
    Buffer.from(signingHash(tx)).toString('hex'),
    Buffer.from(signingHash(buildSendTransaction(sendIntent({}), 0))).toString('hex'),
  );
});

test('after a seed rotation the signer uses the new active key and its new address', async () => {
  await vault.createIdentity('rotating');
  const before = vault.getIdentity('rotating').evm?.address;
  await vault.rotate('rotating', 'seed');
  const after = vault.getIdentity('rotating').evm?.address;
  assert.notEqual(before, after);
  const tx = buildSendTransaction(sendIntent({}), 0);
  const sig = signEvmDigest(vault, 'rotating', signingHash(tx));
  assert.equal(sig.address, after);
  assert.equal(
    await recoverTransactionAddress({ serializedTransaction: serializeSigned(tx, sig) as `0x02${string}` }),
    after,
  );
});

test('signEvmDigest refuses digests that are not 32 bytes and unknown identities', () => {
  for (const digest of [
    new Uint8Array(0),
    new Uint8Array(31),
    new Uint8Array(33),
    'ab'.repeat(32) as unknown,
  ]) {
    assert.throws(
      () => signEvmDigest(vault, 'agent', digest as Uint8Array),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
    );
  }
  assert.throws(
    () => signEvmDigest(vault, 'nobody', new Uint8Array(32)),
    (e) => isWardenError(e, 'IDENTITY_NOT_FOUND'),
  );
});

test('a sealed vault signs nothing', async () => {
  const other = await Vault.create(tempHome('evm-sealed'), passphrase(), clock, TEST_KDF);
  other.setAuditSink(async () => {});
  await other.commitNew('vault.init');
  await other.createIdentity('x');
  other.seal();
  assert.throws(
    () => signEvmDigest(other, 'x', new Uint8Array(32)),
    (e) => isWardenError(e, 'VAULT_SEALED'),
  );
});

test('buildSendTransaction refuses intents that are not a plain EVM send and bad nonces', () => {
  const good = sendIntent({});
  const cases: [string, Intent, string][] = [
    ['nostr', { ...good, protocol: 'nostr' }, 'INVALID_ARGUMENT'],
    ['call', { ...good, action: 'call' }, 'INVALID_ARGUMENT'],
    ['no evm fields', { ...good, detail: {} }, 'INVALID_ARGUMENT'],
    ['token', { ...good, facets: { ...good.facets, contract: '0x'.padEnd(42, '1') } }, 'INVALID_ARGUMENT'],
    ['selector', { ...good, facets: { ...good.facets, function: '0xa9059cbb' } }, 'INVALID_ARGUMENT'],
    ['gas', { ...good, detail: { ...good.detail, gasLimit: '100000' } }, 'INVALID_ARGUMENT'],
    ['other destination', { ...good, destinations: ['0x'.padEnd(42, '2')] }, 'INVALID_ARGUMENT'],
    ['two destinations', { ...good, destinations: [recipient(good), recipient(good)] }, 'INVALID_ARGUMENT'],
    ['asset of another chain', { ...good, asset: 'evm:1' }, 'INVALID_ARGUMENT'],
    [
      'tip above cap',
      { ...good, detail: { ...good.detail, maxFeePerGas: '1', maxPriorityFeePerGas: '2' } },
      'INVALID_ARGUMENT',
    ],
    [
      'checksummed recipient',
      {
        ...good,
        destinations: ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
        detail: { ...good.detail, to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' },
      },
      'INVALID_ADDRESS',
    ],
  ];
  for (const [label, intent, code] of cases) {
    assert.throws(
      () => buildSendTransaction(intent, 0),
      (e) => isWardenError(e, code as never),
      label,
    );
  }
  for (const nonce of [-1, 1.5, Number.NaN, 2 ** 53]) {
    assert.throws(
      () => buildSendTransaction(good, nonce),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
      String(nonce),
    );
  }
});

test('serializeSigned refuses a yParity other than 0 or 1', () => {
  const tx = buildSendTransaction(sendIntent({}), 0);
  const sig = signEvmDigest(vault, 'agent', signingHash(tx));
  for (const yParity of [2, 27, -1]) {
    assert.throws(
      () => serializeSigned(tx, { ...sig, yParity: yParity as 0 }),
      (e) => isWardenError(e, 'INVALID_ARGUMENT'),
    );
  }
});
