import type { Hex } from 'viem';
import { isWardenError } from '../../core/errors.ts';
import type { BackendVerdict, FeeFinding, PendingRequest, ReconcileHooks } from '../module.ts';
import { neverSentVerdict } from '../never-sent.ts';
import type { Spent } from '../operation.ts';
import type { EvmBackend } from './backend.ts';
import { feePaid } from './fee.ts';
import { type EvmDb, returnNonce, type SpentNonce, spentNonceOf } from './nonces.ts';
import type { EvmReceipt, EvmRpc } from './rpc.ts';

interface Sent {
  spent: SpentNonce;
  txHash: Hex;
}

/** The transaction an EVM request recorded before broadcast, or why there is none to ask about. */
function sentOf(request: PendingRequest, backend: EvmBackend | null): Sent | string {
  const result = request.result as { txHash?: unknown } | null;
  const spent = spentNonceOf(request.identity, result);
  const txHash = typeof result?.txHash === 'string' ? (result.txHash as Hex) : null;
  if (!spent || !txHash) return 'nothing was signed on record';
  if (!backend?.chainIds.includes(spent.chainId)) return `no RPC endpoint for chain ${spent.chainId}`;
  return { spent, txHash };
}

/** What a receipt says was spent: the fee paid (fees are money), and whether the value moved. */
function spentBy(receipt: EvmReceipt): Spent {
  return { fee: feePaid(receipt), valueMoved: receipt.status === 'success' };
}

function minedReason(receipt: EvmReceipt): string {
  const fee = feePaid(receipt);
  const paid = fee === null ? 'fee paid unknown, the worst case stays booked' : `fee paid ${fee} wei`;
  return `mined in block ${receipt.blockNumber} (${receipt.status}), ${paid}`;
}

function noAnswer(err: unknown): string {
  return `the node did not answer (${isWardenError(err) ? err.code : 'INTERNAL'})`;
}

/**
 * A certain answer where the chain gives one, and only there: a receipt for the recorded hash
 * means it was mined: success → commit; reverted → release (the value never moved), its fee still
 * counted. Anything else stays for the operator, with what the node said.
 */
async function verdictOf(request: PendingRequest, backend: EvmBackend | null): Promise<BackendVerdict> {
  const { requestId } = request;
  // Killed before the hash and the nonce were on record: nothing was sent, no nonce spent.
  const unsent = neverSentVerdict(request);
  if (unsent) return unsent;
  const sent = sentOf(request, backend);
  if (typeof sent === 'string') return { requestId, verdict: 'unresolved', reason: sent };
  const { spent, txHash } = sent;
  try {
    const rpc = backend!.rpc(spent.chainId, request.identity);
    await rpc.assertChainId(spent.chainId);
    // The mined count first, the receipt after: if the nonce was already consumed when counted
    // and our receipt is still absent afterwards, another transaction consumed it. The other
    // order could miss ours being mined between the two questions, and release it wrongly.
    const minedCount = await rpc.getTransactionCount(spent.address, 'latest');
    const receipt = await rpc.getTransactionReceipt(txHash);
    if (receipt) {
      return {
        requestId,
        verdict: receipt.status === 'success' ? 'commit' : 'release',
        reason: minedReason(receipt),
        spent: spentBy(receipt),
      };
    }
    if (minedCount > spent.nonce) {
      // Most likely another transaction took the nonce, but a node that prunes old lookups or a
      // load balancer over lagging nodes answers the same: releasing would free a budget the
      // chain may have spent. The operator confirms on a synced node and releases by hand.
      return {
        requestId,
        verdict: 'unresolved',
        reason: `nonce ${spent.nonce} is used on chain but this node has no receipt for it: check ${txHash} on a synced node, then --commit or --release`,
      };
    }
    return { requestId, verdict: 'unresolved', reason: 'not mined yet' };
  } catch (err) {
    return { requestId, verdict: 'unresolved', reason: noAnswer(err) };
  }
}

/**
 * Committed EVM requests are booked at their worst-case fee (gasLimit × maxFeePerGas) until the
 * fee they paid is known: their receipts say what was paid (and a reverted one moved nothing).
 * Not mined yet, or a node that does not tell the effective gas price: the worst case stays.
 */
async function feesPaid(requests: readonly PendingRequest[], backend: EvmBackend | null) {
  const found: FeeFinding[] = [];
  const unresolved: BackendVerdict[] = [];
  const rpcs = new Map<string, EvmRpc>();
  for (const request of requests) {
    const sent = sentOf(request, backend);
    if (typeof sent === 'string') continue;
    const key = `${request.identity}\u0000${sent.spent.chainId}`;
    let receipt: EvmReceipt | null;
    try {
      let rpc = rpcs.get(key);
      if (!rpc) {
        rpc = backend!.rpc(sent.spent.chainId, request.identity);
        await rpc.assertChainId(sent.spent.chainId);
        rpcs.set(key, rpc);
      }
      receipt = await rpc.getTransactionReceipt(sent.txHash);
    } catch (err) {
      unresolved.push({
        requestId: request.requestId,
        verdict: 'unresolved',
        reason: `fee: ${noAnswer(err)}`,
      });
      continue;
    }
    const spent = receipt ? spentBy(receipt) : null;
    if (!receipt || !spent || spent.fee === null) continue;
    found.push({
      requestId: request.requestId,
      spent: { ...spent, fee: spent.fee },
      reason: minedReason(receipt),
    });
  }
  return { found, unresolved };
}

export const evmReconcile: ReconcileHooks<EvmBackend, EvmDb> = {
  async verdicts(requests, backend) {
    const out: BackendVerdict[] = [];
    for (const r of requests) out.push(await verdictOf(r, backend));
    return out;
  },
  feesPaid,
  // Not sent after all: its nonce is free again, or every later transaction would wait behind it.
  async released(request, tables) {
    const spent = spentNonceOf(request.identity, request.result);
    return { nonceReturned: spent ? await returnNonce(tables, spent) : null };
  },
};
