import type { Hex } from 'viem';
import { appendAuditInTx } from '../audit/append.ts';
import { feePaid } from '../chains/evm/fee.ts';
import { createEvmRpc, type EvmReceipt, type EvmRpc } from '../chains/evm/rpc.ts';
import { isWardenError } from '../core/errors.ts';
import type { Net } from '../net/http.ts';
import { type SpentNonce, spentNonceOf } from './evm-nonces.ts';
import { netForRpc } from './evm-setup.ts';
import { openFees, type Spent, settleFee } from './ledger.ts';
import { reconcile, stuckRequests } from './reconcile.ts';
import { getRequestRow } from './requests.ts';
import type { Warden } from './warden.ts';

export interface ChainVerdict {
  requestId: string;
  /** `fee`: a committed request whose worst-case fee was replaced by the fee it paid. */
  verdict: 'commit' | 'release' | 'unresolved' | 'fee';
  reason: string;
}

/** Committed requests whose fee is looked up in one run; the rest wait for the next. */
export const FEES_PER_RUN = 500;

interface Sent {
  spent: SpentNonce;
  txHash: Hex;
  url: string;
}

/** The transaction an EVM request recorded before broadcast, and the node of its chain. */
async function sentOf(
  warden: Warden,
  requestId: string,
  rpcUrls: ReadonlyMap<number, string>,
): Promise<{ identity: string; sent: Sent | null; missing: string }> {
  const row = await getRequestRow(warden.store.db, requestId);
  const result = row.result === null ? null : (JSON.parse(row.result) as { txHash?: unknown });
  const spent = spentNonceOf(row.identity, result);
  const txHash = typeof result?.txHash === 'string' ? (result.txHash as Hex) : null;
  const url = spent ? rpcUrls.get(spent.chainId) : undefined;
  if (spent && txHash && url) return { identity: row.identity, sent: { spent, txHash, url }, missing: '' };
  const missing =
    spent && txHash ? `no --evm-rpc for chain ${spent.chainId}` : 'nothing was signed on record';
  return { identity: row.identity, sent: null, missing };
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

/**
 * Settles stuck EVM requests where the chain gives a certain answer, and only there:
 * a receipt for the recorded hash means it was mined: success → commit; reverted → release (the
 * value never moved), its fee still counted. Anything else stays for the operator, with what the
 * node said: not mined yet, its nonce used by something this node has no receipt for, no
 * endpoint for its chain. Then committed requests still booked at their worst-case fee get the
 * fee they paid (`settleEvmFees`).
 */
export async function reconcileEvmFromChain(
  warden: Warden,
  rpcUrls: ReadonlyMap<number, string>,
): Promise<ChainVerdict[]> {
  const net = netForRpc(rpcUrls);
  const verdicts: ChainVerdict[] = [];
  for (const stuck of await stuckRequests(warden)) {
    if (stuck.protocol !== 'evm') continue;
    const { identity, sent, missing } = await sentOf(warden, stuck.requestId, rpcUrls);
    if (!sent) {
      verdicts.push({ requestId: stuck.requestId, verdict: 'unresolved', reason: missing });
      continue;
    }
    const { spent, txHash, url } = sent;
    const rpc = createEvmRpc({ url, net, identity });
    let verdict: ChainVerdict;
    let receipt: EvmReceipt | null = null;
    try {
      await rpc.assertChainId(spent.chainId);
      // The mined count first, the receipt after: if the nonce was already consumed when counted
      // and our receipt is still absent afterwards, another transaction consumed it. The other
      // order could miss ours being mined between the two questions, and release it wrongly.
      const minedCount = await rpc.getTransactionCount(spent.address, 'latest');
      receipt = await rpc.getTransactionReceipt(txHash);
      if (receipt) {
        verdict = {
          requestId: stuck.requestId,
          verdict: receipt.status === 'success' ? 'commit' : 'release',
          reason: minedReason(receipt),
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
      verdict = { requestId: stuck.requestId, verdict: 'unresolved', reason: noAnswer(err) };
    }
    // A mined transaction used its nonce, whatever its status: never give it back.
    if (verdict.verdict !== 'unresolved' && receipt) {
      await reconcile(warden, stuck.requestId, verdict.verdict as 'commit' | 'release', {
        returnNonce: false,
        spent: spentBy(receipt),
      });
    }
    verdicts.push(verdict);
  }
  verdicts.push(...(await settleEvmFees(warden, rpcUrls, net)));
  return verdicts;
}

function noAnswer(err: unknown): string {
  return `the node did not answer (${isWardenError(err) ? err.code : 'INTERNAL'})`;
}

/**
 * Committed EVM requests are booked at their worst-case fee (gasLimit × maxFeePerGas) until the
 * fee they paid is known: this looks up their receipts and books what was paid instead (and an
 * amount of 0 for a transaction that reverted). Not mined yet, or a node that does not tell the
 * effective gas price: the worst case stays, and the next run asks again.
 */
export async function settleEvmFees(
  warden: Warden,
  rpcUrls: ReadonlyMap<number, string>,
  net: Net = netForRpc(rpcUrls),
): Promise<ChainVerdict[]> {
  const verdicts: ChainVerdict[] = [];
  const rpcs = new Map<string, EvmRpc>();
  for (const open of await openFees(warden.store.db, 'evm', [...rpcUrls.keys()], FEES_PER_RUN)) {
    const { sent } = await sentOf(warden, open.request_id, rpcUrls);
    if (!sent) continue;
    const key = `${open.identity}\u0000${sent.spent.chainId}`;
    let rpc = rpcs.get(key);
    let receipt: EvmReceipt | null;
    try {
      if (!rpc) {
        rpc = createEvmRpc({ url: sent.url, net, identity: open.identity });
        await rpc.assertChainId(sent.spent.chainId);
        rpcs.set(key, rpc);
      }
      receipt = await rpc.getTransactionReceipt(sent.txHash);
    } catch (err) {
      verdicts.push({ requestId: open.request_id, verdict: 'unresolved', reason: `fee: ${noAnswer(err)}` });
      continue;
    }
    const spent = receipt ? spentBy(receipt) : null;
    if (!receipt || !spent || spent.fee === null) continue;
    const fee = spent.fee;
    const settled = await warden.store.transaction(async (tx) => {
      const now = warden.clock.now();
      if ((await settleFee(tx, open.request_id, { ...spent, fee }, now)) === 0) return false;
      await appendAuditInTx(
        tx,
        warden.vault.auditKeys(),
        {
          actor: warden.actor,
          identity: open.identity,
          action: 'ledger.fee',
          outcome: 'ok',
          summary: { operationId: open.request_id, protocol: 'evm' },
          details: { worstCase: open.fee, paid: fee.toString(), valueMoved: spent.valueMoved },
        },
        warden.clock,
      );
      return true;
    });
    if (settled) {
      verdicts.push({
        requestId: open.request_id,
        verdict: 'fee',
        reason: `${minedReason(receipt)} (${open.fee} wei booked as the worst case)`,
      });
    }
  }
  return verdicts;
}
