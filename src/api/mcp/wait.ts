import type { RequestView } from '../../gateway/requests.ts';
import type { ToolCall } from './tools.ts';

/** How long one long-poll of the gateway lasts: progress is reported between them. */
const POLL_SECONDS = 2;

/**
 * Follows a request through the gateway's long-poll (`requests.get` with a wait, the one
 * `GET /v1/requests/:id?wait=` uses) until it is no longer pending, the time is up, or the client
 * cancelled; a progress notification after each poll tells the client it is still waiting.
 */
export async function waitForRequest(
  ctx: ToolCall,
  requestId: string,
  timeoutSeconds: number,
): Promise<RequestView> {
  const start = Date.now();
  for (;;) {
    const left = timeoutSeconds - (Date.now() - start) / 1000;
    const view = await ctx.gateway.requests.get(
      ctx.principal,
      requestId,
      Math.max(0, Math.min(POLL_SECONDS, left)),
    );
    const pending = view.status === 'held' || view.status === 'scheduled' || view.status === 'executing';
    if (!pending || left <= POLL_SECONDS || ctx.signal.aborted) return view;
    const waited = Math.round((Date.now() - start) / 1000);
    await ctx.progress(
      waited,
      timeoutSeconds,
      `request ${requestId} is still ${view.status} after ${waited} s`,
    );
  }
}
