/**
 * Reconciling sends whose outcome is not known (a timeout, a crash between signing and the
 * broadcast): the recorded txid is looked up on the node; found (mempool or block) → commit, with
 * the fee the transaction pays. Not found → the very transaction on record is broadcast again (the
 * same bytes, so the same coins, payees and fee that were judged and booked) and looked up again.
 * A node that still refuses it leaves the request to the operator, with the node's words: only a
 * person who checked that its coins were spent elsewhere can say it will never be mined.
 *
 * A send whose process was killed (gateway/orphans.ts) is treated the same once it recorded its
 * transaction: the bytes may have left before the kill, so the coins stay spent by that very
 * transaction, which is broadcast again, rather than freed for another that could conflict with
 * it (a release would free a budget the chain may still spend). Killed before it recorded
 * anything, it certainly sent nothing: released, no coin was locked yet.
 */
import { hex } from '@scure/base';
import { isWardenError } from '../../../core/errors.ts';
import type { BackendVerdict, PendingRequest, ReconcileHooks } from '../../module.ts';
import { neverSentVerdict } from '../../never-sent.ts';
import type { BitcoinBackend } from '../backend.ts';
import { isTxid } from '../chain/chain.ts';
import type { BitcoinDb } from '../tables.ts';
import { releaseLocks } from '../wallet/coin-locks.ts';
import { type SendResult, seenOnChain } from './execute.ts';

function recorded(request: PendingRequest): SendResult | null {
  const r = request.result as Partial<SendResult> | null;
  if (!r || !isTxid(r.txid) || typeof r.raw !== 'string' || typeof r.network !== 'string') return null;
  if (typeof r.fee !== 'string' || !/^\d{1,16}$/.test(r.fee)) return null;
  return r as SendResult;
}

const why = (err: unknown) => (isWardenError(err) ? `${err.code}: ${err.message}` : 'INTERNAL');

async function verdictOf(request: PendingRequest, backend: BitcoinBackend | null): Promise<BackendVerdict> {
  const { requestId } = request;
  const unsent = neverSentVerdict(request);
  if (unsent) return unsent;
  const sent = recorded(request);
  if (!sent) return { requestId, verdict: 'unresolved', reason: 'nothing was signed on record' };
  if (!backend?.networks.includes(sent.network as never))
    return { requestId, verdict: 'unresolved', reason: `no Bitcoin node for ${sent.network}` };
  const spent = { fee: BigInt(sent.fee), valueMoved: true };
  try {
    const chain = backend.chain(sent.network, request.identity);
    const status = await chain.status(sent.txid);
    if (status.state !== 'unknown')
      return {
        requestId,
        verdict: 'commit',
        reason:
          status.state === 'confirmed'
            ? `${sent.txid} is in block ${status.height}, fee ${sent.fee} sat`
            : `${sent.txid} is in the node's mempool, fee ${sent.fee} sat`,
        spent,
      };
    try {
      await chain.broadcast(hex.decode(sent.raw));
    } catch (err) {
      return {
        requestId,
        verdict: 'unresolved',
        reason: `${sent.txid} is not on the node and broadcasting it again failed (${why(err)}): if its coins are spent elsewhere, release it`,
      };
    }
    if (await seenOnChain(chain, sent.txid))
      return {
        requestId,
        verdict: 'commit',
        reason: `${sent.txid} was not on the node; broadcast again (the same signed bytes) and found, fee ${sent.fee} sat`,
        spent,
      };
    return {
      requestId,
      verdict: 'unresolved',
      reason: `${sent.txid} broadcast again but not found on the node`,
    };
  } catch (err) {
    return { requestId, verdict: 'unresolved', reason: `the node did not answer (${why(err)})` };
  }
}

export const bitcoinReconcile: ReconcileHooks<BitcoinBackend, BitcoinDb> = {
  async verdicts(requests, backend) {
    const out: BackendVerdict[] = [];
    for (const r of requests) out.push(await verdictOf(r, backend));
    return out;
  },
  // A send's fee is exact when it is signed (no gas to guess): nothing is booked at a worst case.
  async feesPaid() {
    return { found: [], unresolved: [] };
  },
  // Not sent after all: its coins may be spent again.
  async released(request, tables) {
    return { coinsUnlocked: await releaseLocks(tables, request.requestId) };
  },
};
