/**
 * `/mcp` on the running server: MCP over Streamable HTTP, behind the HTTP API's own guards (the
 * Host and Origin checks, the security headers and the body limit are installed on the whole
 * app before this route). Every HTTP request is authenticated by its bearer token and counted
 * against the token's rate limit; the transport is stateless, so no session id is ever issued,
 * and none could stand in for the token.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Hono } from 'hono';
import { WardenError } from '../../core/errors.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { withSecurityHeaders } from '../http/guards.ts';
import { createMcpServer } from './server.ts';

export const MCP_PATH = '/mcp';

// biome-ignore lint/suspicious/noExplicitAny: mounted on the HTTP app, whatever its environment
export function mountMcp(app: Hono<any>, gateway: Gateway, bodyLimit: number): void {
  app.all(MCP_PATH, async (c) => {
    // Stateless, and nothing to push unasked: no standalone stream to GET (it would stay open,
    // idle, for as long as the client liked) and no session to DELETE. The spec's answer is 405.
    if (c.req.method !== 'POST') {
      c.header('Allow', 'POST');
      throw new WardenError('METHOD_NOT_ALLOWED', 'MCP messages are POSTed to /mcp', {
        method: c.req.method.slice(0, 16),
      });
    }
    const principal = await gateway.access.authenticate(c.req.header('authorization'));
    // Approvals need a human: an operator's token has no business in an agent framework.
    if (principal.role !== 'agent')
      throw new WardenError(
        'FORBIDDEN',
        'the MCP door serves agent tokens; operators use the CLI or the HTTP API',
      );
    gateway.access.limit(principal, 'mcp.request');
    // The audit records of what this principal submits say it came through MCP.
    const server = createMcpServer(gateway, { ...principal, frontDoor: 'mcp' });
    // No sessionIdGenerator: stateless, no session id is issued.
    const transport = new WebStandardStreamableHTTPServerTransport({ maxRequestBodySize: bodyLimit });
    await server.connect(transport);
    // The client went away (a cancelled wait): the handlers' signals abort, the server closes.
    c.req.raw.signal.addEventListener('abort', () => void server.close(), { once: true });
    return withSecurityHeaders(await transport.handleRequest(c.req.raw));
  });
}
