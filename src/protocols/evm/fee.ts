import type { EvmReceipt } from './rpc.ts';

/**
 * The fee a mined transaction actually paid, in wei: gas used × effective gas price, plus the L1
 * data fee that OP Stack chains (OP Mainnet, Base) charge on top and report as `l1Fee` (Arbitrum
 * folds its L1 cost into gasUsed). Null when the node does not say (no effectiveGasPrice): the
 * worst case then stays booked. A reverted transaction pays its fee too.
 */
export function feePaid(receipt: EvmReceipt): bigint | null {
  if (receipt.effectiveGasPrice === null) return null;
  return receipt.gasUsed * receipt.effectiveGasPrice + (receipt.l1Fee ?? 0n);
}
