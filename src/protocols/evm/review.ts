import { formatEther } from 'viem';
import type { Intent } from '../../core/intent.ts';
import { evmSendFields } from './intent.ts';

/**
 * What an approver reads before an EVM send: the transaction exactly as it will be built from the
 * judged intent (only the nonce is taken at signing), and one line in words. Amounts are decimal
 * strings of wei; the line adds the ether value, computed exactly by viem, never through floats.
 */
export interface EvmReview {
  payload: {
    type: 'eip1559';
    chainId: number;
    from: string;
    to: string;
    value: string;
    data: string;
    gasLimit: string;
    maxFeePerGas: string;
    maxPriorityFeePerGas: string;
    maxFee: string;
    nonce: 'assigned at signing';
  };
  summary: string;
}

export function evmSendReview(intent: Intent, from: string): EvmReview {
  const evm = evmSendFields(intent);
  return {
    payload: {
      type: 'eip1559',
      chainId: evm.chainId,
      from,
      to: evm.to,
      value: intent.amount.toString(),
      data: '0x',
      gasLimit: evm.gasLimit.toString(),
      maxFeePerGas: evm.maxFeePerGas.toString(),
      maxPriorityFeePerGas: evm.maxPriorityFeePerGas.toString(),
      maxFee: intent.maxFee.toString(),
      nonce: 'assigned at signing',
    },
    summary:
      `send ${formatEther(intent.amount)} of the native coin (${intent.amount} wei) on chain ${evm.chainId} ` +
      `to ${evm.to}; fees at most ${formatEther(intent.maxFee)} (${intent.maxFee} wei), ` +
      `so at most ${formatEther(intent.amount + intent.maxFee)} leaves ${from}`,
  };
}
