import { WardenError } from '../../core/errors.ts';

/**
 * The nonce of the next transaction of one (identity, chainId):
 *
 *   nextNonce(chainPending, localNext) = max(chainPending, localNext ?? 0)
 *
 * - `chainPending`: `eth_getTransactionCount(address, 'pending')` from the node.
 * - `localNext`: one more than the last nonce this gateway used for that (identity, chainId), as kept
 *   in its store; null when it never sent one there.
 *
 * Why the maximum: the node's pending count lags behind a transaction we just broadcast (another node
 * behind a load balancer, a mempool that has not seen it yet), so the local record prevents reusing a
 * nonce, which would replace or collide with our own transaction; the local record lags behind the chain
 * when the same seed sent from elsewhere (a restored wallet), so the chain's count prevents a nonce that
 * is already mined ("nonce too low").
 *
 * The gateway's part (not here): read `localNext`, compute the nonce and store `nonce + 1` in the SAME
 * store transaction that reserves the amount, before signing, so two concurrent requests of one identity
 * never get the same nonce. If a signed transaction is known NOT to have been broadcast (the node
 * refused it), release it by storing the nonce back only if nothing newer was taken; if broadcast is
 * uncertain (RPC_UNREACHABLE), keep the nonce and look the transaction up by its hash. A nonce reserved
 * but never broadcast leaves a gap that blocks every later transaction of that identity on that chain
 * until it is filled, so `localNext - chainPending` growing is a signal worth alerting on.
 */
export function nextNonce(chainPending: number, localNext: number | null): number {
  if (!Number.isSafeInteger(chainPending) || chainPending < 0) {
    throw new WardenError('INVALID_ARGUMENT', 'chainPending must be a non-negative integer', {
      chainPending,
    });
  }
  if (localNext !== null && (!Number.isSafeInteger(localNext) || localNext < 0)) {
    throw new WardenError('INVALID_ARGUMENT', 'localNext must be a non-negative integer or null', {
      localNext,
    });
  }
  return localNext === null ? chainPending : Math.max(chainPending, localNext);
}
