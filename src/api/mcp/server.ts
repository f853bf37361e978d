/**
 * One MCP server for one authenticated principal. The HTTP door builds one per request (the
 * transport is stateless: there is no session to trust, every request carries its token), so the
 * tools listed and called are always the ones this token's capabilities allow, right now.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { isWardenError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import { wardenVersion } from '../../core/version.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { listResources, readResource } from './resources.ts';
import { refusalResult } from './results.ts';
import { toolsFor } from './tools.ts';

/** MCP's "resource not found" (the spec's error code for resources/read). */
const RESOURCE_NOT_FOUND = -32002;

const INSTRUCTIONS =
  "Warden holds this agent's keys and signs only what its policy allows. Tools named after an operation (nostr_sign_event, evm_send, …) act and count against the budget; dry_run and get_budget cost nothing. A held request needs a human operator: tell the user, then follow it with wait_for_request. A denial names its code and rule: do not retry the same request unchanged.";

export function createMcpServer(gateway: Gateway, principal: Principal): Server {
  // The low-level server: tools come with JSON Schemas from the registry, not zod shapes.
  const server = new Server(
    { name: 'warden', version: wardenVersion() },
    {
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false } },
      instructions: INSTRUCTIONS,
    },
  );
  const tools = toolsFor(gateway, principal);
  const byName = new Map(tools.map((t) => [t.definition.name, t]));

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.map((t) => t.definition) }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name);
    // An unknown tool is the client's protocol error; everything a known tool refuses is a result.
    if (!tool)
      throw new McpError(ErrorCode.InvalidParams, `no tool named ${request.params.name.slice(0, 64)}`);
    const progressToken = request.params._meta?.progressToken;
    try {
      return await tool.call(request.params.arguments ?? {}, {
        gateway,
        principal,
        signal: extra.signal,
        progress: async (progress, total, message) => {
          if (progressToken === undefined) return;
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress, ...(total === undefined ? {} : { total }), message },
          });
        },
      });
    } catch (err) {
      if (!isWardenError(err))
        gateway.logger.error({ err, tool: tool.definition.name }, 'internal error in an MCP tool');
      return refusalResult(err);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: listResources() }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    try {
      return await readResource(gateway, principal, request.params.uri);
    } catch (err) {
      if (isWardenError(err, 'NOT_FOUND'))
        throw new McpError(RESOURCE_NOT_FOUND, err.message, { uri: request.params.uri });
      throw err;
    }
  });
  return server;
}
