import {
  type Hex,
  keccak256,
  parseTransaction,
  serializeTransaction,
  type TransactionSerializableEIP1559,
} from 'viem';
import { WardenError } from '../../core/errors.ts';
import type { Intent } from '../../core/intent.ts';
import { evmSendFields, TRANSFER_GAS_LIMIT } from './intent.ts';

/** An unsigned EIP-1559 transfer: exactly the fields that are signed, nothing optional. */
export interface EvmSendTransaction {
  type: 'eip1559';
  chainId: number;
  nonce: number;
  to: `0x${string}`;
  value: bigint;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface EvmSignature {
  r: Hex;
  s: Hex;
  yParity: 0 | 1;
}

/**
 * The transaction of an EVM `send` Intent. It is built from the Intent itself, so what is signed is
 * exactly what risk and policy judged: chain, recipient, value, fee caps and gas limit.
 */
export function buildSendTransaction(intent: Intent, nonce: number): EvmSendTransaction {
  if (intent.action !== 'send') {
    throw new WardenError('INVALID_ARGUMENT', 'not an EVM send intent', {
      protocol: intent.protocol,
      action: intent.action,
    });
  }
  const evm = evmSendFields(intent);
  const { contract, function: selector } = intent.facets;
  if ((contract ?? null) !== null || (selector ?? null) !== null || evm.gasLimit !== TRANSFER_GAS_LIMIT) {
    throw new WardenError('INVALID_ARGUMENT', 'only plain native-value transfers are built here');
  }
  if (intent.destinations.length !== 1 || intent.destinations[0] !== evm.to) {
    throw new WardenError('INVALID_ARGUMENT', 'the intent destination and its EVM recipient differ');
  }
  if (intent.asset !== `evm:${evm.chainId}`) {
    throw new WardenError('INVALID_ARGUMENT', 'the intent asset is not the native coin of its chain', {
      asset: intent.asset,
    });
  }
  if (!/^0x[0-9a-f]{40}$/.test(evm.to)) {
    throw new WardenError('INVALID_ADDRESS', 'the intent recipient is not a lower-case 0x address');
  }
  if (!Number.isSafeInteger(nonce) || nonce < 0) {
    throw new WardenError('INVALID_ARGUMENT', 'nonce must be a non-negative integer', { nonce });
  }
  const tx: EvmSendTransaction = {
    type: 'eip1559',
    chainId: evm.chainId,
    nonce,
    to: evm.to as `0x${string}`,
    value: intent.amount,
    gas: evm.gasLimit,
    maxFeePerGas: evm.maxFeePerGas,
    maxPriorityFeePerGas: evm.maxPriorityFeePerGas,
  };
  unsignedSerialization(tx); // viem's own checks (fee caps, tip ≤ cap, chain id) run now
  return tx;
}

function serializable(tx: EvmSendTransaction): TransactionSerializableEIP1559 {
  return {
    type: 'eip1559',
    chainId: tx.chainId,
    nonce: tx.nonce,
    to: tx.to,
    value: tx.value,
    gas: tx.gas,
    maxFeePerGas: tx.maxFeePerGas,
    maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
  };
}

function viemCall<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new WardenError('INVALID_ARGUMENT', `${what}: the transaction is not valid`, {}, { cause: err });
  }
}

/** `0x02 || rlp([...])` without a signature: the bytes whose keccak256 is signed. */
export function unsignedSerialization(tx: EvmSendTransaction): Hex {
  return viemCall('serialize', () => serializeTransaction(serializable(tx)));
}

/** The 32-byte digest the key signs (EIP-1559: keccak256 of the unsigned serialization). */
export function signingHash(tx: EvmSendTransaction): Uint8Array {
  return keccak256(unsignedSerialization(tx), 'bytes');
}

/** The signed transaction, ready for eth_sendRawTransaction. */
export function serializeSigned(tx: EvmSendTransaction, signature: EvmSignature): Hex {
  if (signature.yParity !== 0 && signature.yParity !== 1) {
    throw new WardenError('INVALID_ARGUMENT', 'yParity must be 0 or 1');
  }
  const { r, s, yParity } = signature;
  return viemCall('serialize signed', () => serializeTransaction(serializable(tx), { r, s, yParity }));
}

/** The transaction hash of a signed serialization: known before broadcast, so it can be looked up. */
export function transactionHash(signed: Hex): Hex {
  return keccak256(signed);
}

/** The chain id a signed (or unsigned) serialization commits to, or null if it has none. */
export function serializedChainId(serialized: Hex): number | null {
  const parsed = viemCall('parse', () => parseTransaction(serialized));
  return typeof parsed.chainId === 'number' ? parsed.chainId : null;
}
