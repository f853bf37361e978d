import type { BackendVerdict, PendingRequest } from './module.ts';

/**
 * For a module whose executions put what they send on record before it leaves
 * (`recordBeforeSend`, in the transaction that also takes their coins or nonce): a request whose
 * process is gone with nothing on record never sent anything, and never will (what it signed
 * died with it). It is released, with what it took given back. Null for any other request.
 */
export function neverSentVerdict(request: PendingRequest): BackendVerdict | null {
  if (request.executorGone !== true || request.result !== null) return null;
  return {
    requestId: request.requestId,
    verdict: 'release',
    neverSent: true,
    reason: 'its process is gone and nothing was put on record to send: it never left Warden',
  };
}
