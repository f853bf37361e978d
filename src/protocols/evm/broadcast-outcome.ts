import { isWardenError } from '../../core/errors.ts';

/**
 * Whether a failed broadcast certainly did NOT put the transaction in any mempool. Only then may
 * its budget be released and its nonce reused; anything else (a 502 from a proxy that forwarded it,
 * "already known", "nonce too low", a timeout, a malformed answer) may have reached the chain and
 * stays `unknown` until reconciled by its hash.
 *
 * It reads the neutral backend codes (core/errors.ts): a certain refusal is BACKEND_REJECTED from
 * eth_sendRawTransaction with a JSON-RPC code and a message that says so, or any BACKEND_* failure
 * of the chain check (eth_chainId) that runs before sending. OUTCOME_UNKNOWN is never certain, and
 * neither are the deprecated RPC_ERROR / RPC_UNREACHABLE, which nothing raises any more. A failure
 * the net layer marks `sent: false` (src/net/) is certain too: the request never left.
 */
const REJECTED =
  /insufficient funds|underpriced|fee too low|max fee per gas less than|intrinsic gas|exceeds block gas limit|invalid sender|invalid signature|invalid chain ?id|oversized data|tip higher than/i;
const MAYBE_SENT = /already known|known transaction|nonce too low|replacement/i;
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'BACKEND_UNREACHABLE',
  'TOR_UNAVAILABLE',
  'NET_PIN_MISMATCH',
]);

export function certainlyNotBroadcast(err: unknown): boolean {
  if (!isWardenError(err)) return false;
  const { method, rpcCode, rpcMessage } = err.details;
  // The net layer knows nothing left this machine: Tor was down, its stream never opened, the TLS
  // handshake or the pin failed, or a direct connection was refused.
  if (err.details.sent === false && NOT_SENT_CODES.has(err.code)) return true;
  // The chain check runs before the transaction is sent.
  if (err.code === 'CHAIN_MISMATCH') return true;
  if (method === 'eth_chainId' && (err.code === 'BACKEND_REJECTED' || err.code === 'BACKEND_UNREACHABLE'))
    return true;
  // Unreachable during the send itself: it may have left before the connection broke.
  if (err.code !== 'BACKEND_REJECTED' || method !== 'eth_sendRawTransaction') return false;
  if (typeof rpcCode !== 'number' || typeof rpcMessage !== 'string') return false;
  return REJECTED.test(rpcMessage) && !MAYBE_SENT.test(rpcMessage);
}
