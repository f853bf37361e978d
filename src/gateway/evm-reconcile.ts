import type { Hex } from 'viem';
import { createEvmRpc } from '../chains/evm/rpc.ts';
import { isWardenError } from '../core/errors.ts';
import { spentNonceOf } from './evm-nonces.ts';
import { netForRpc } from './evm-setup.ts';
import { reconcile, stuckRequests } from './reconcile.ts';
import { getRequestRow } from './requests.ts';
import type { Warden } from './warden.ts';

export interface ChainVerdict {
  requestId: string;
  verdict: 'commit' | 'release' | 'unresolved';
  reason: string;
}

/**
 * Settles stuck EVM requests where the chain gives a certain answer, and only there:
 * a receipt for the recorded hash means it was mined: success → commit; reverted → release (the
 * value never moved). Anything else stays for the operator, with what the node said: not mined yet,
 * its nonce used by something this node has no receipt for, no endpoint for its chain.
 */
export async function reconcileEvmFromChain(
  warden: Warden,
  rpcUrls: ReadonlyMap<number, string>,
): Promise<ChainVerdict[]> {
  const net = netForRpc(rpcUrls);
  const verdicts: ChainVerdict[] = [];
  for (const stuck of await stuckRequests(warden)) {
    if (stuck.protocol !== 'evm') continue;
    const row = await getRequestRow(warden.store.db, stuck.requestId);
    const result = row.result === null ? null : (JSON.parse(row.result) as { txHash?: unknown });
    const spent = spentNonceOf(row.identity, result);
    const txHash = typeof result?.txHash === 'string' ? (result.txHash as Hex) : null;
    const url = spent ? rpcUrls.get(spent.chainId) : undefined;
    if (!spent || !txHash || !url) {
      verdicts.push({
        requestId: stuck.requestId,
        verdict: 'unresolved',
        reason: spent && txHash ? `no --evm-rpc for chain ${spent.chainId}` : 'nothing was signed on record',
      });
      continue;
    }
    const rpc = createEvmRpc({ url, net, identity: row.identity });
    let verdict: ChainVerdict;
    try {
      await rpc.assertChainId(spent.chainId);
      // The mined count first, the receipt after: if the nonce was already consumed when counted
      // and our receipt is still absent afterwards, another transaction consumed it. The other
      // order could miss ours being mined between the two questions, and release it wrongly.
      const minedCount = await rpc.getTransactionCount(spent.address, 'latest');
      const receipt = await rpc.getTransactionReceipt(txHash);
      if (receipt) {
        verdict = {
          requestId: stuck.requestId,
          verdict: receipt.status === 'success' ? 'commit' : 'release',
          reason: `mined in block ${receipt.blockNumber} (${receipt.status})`,
        };
      } else if (minedCount > spent.nonce) {
        // Most likely another transaction took the nonce, but a node that prunes old lookups or a
        // load balancer over lagging nodes answers the same: releasing would free a budget the
        // chain may have spent. The operator confirms on a synced node and releases by hand.
        verdict = {
          requestId: stuck.requestId,
          verdict: 'unresolved',
          reason: `nonce ${spent.nonce} is used on chain but this node has no receipt for it: check ${txHash} on a synced node, then --commit or --release`,
        };
      } else {
        verdict = { requestId: stuck.requestId, verdict: 'unresolved', reason: 'not mined yet' };
      }
    } catch (err) {
      const code = isWardenError(err) ? err.code : 'INTERNAL';
      verdict = {
        requestId: stuck.requestId,
        verdict: 'unresolved',
        reason: `the node did not answer (${code})`,
      };
    }
    // A mined transaction used its nonce, whatever its status: never give it back.
    if (verdict.verdict !== 'unresolved')
      await reconcile(warden, stuck.requestId, verdict.verdict, { returnNonce: false });
    verdicts.push(verdict);
  }
  return verdicts;
}
