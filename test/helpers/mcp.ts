import assert from 'node:assert/strict';
import { after } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The official SDK client over a transport, closed after the test file. */
export async function connectClient(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'warden-test-agent', version: '0.0.1' });
  await client.connect(transport);
  after(() => client.close());
  return client;
}

/** The official SDK client over Streamable HTTP to `<url>/mcp`, authenticated by `token`. */
export function httpClient(url: string, token: string): Promise<Client> {
  return connectClient(
    new StreamableHTTPClientTransport(new URL('/mcp', url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
}

/** The JSON an error result carries as its second text block (results.ts). */
export function errorOf(answer: unknown): {
  code: string;
  message: string;
  rule?: string | null;
  remedy?: string | null;
  limits?: { rule: string; cap: string; used: string; reserved: string }[];
  requestId?: string;
  details?: Record<string, unknown>;
} {
  const result = answer as CallToolResult;
  assert.equal(result.isError, true, JSON.stringify(result));
  const block = result.content[1];
  assert.equal(block?.type, 'text');
  return JSON.parse((block as { text: string }).text).error;
}

/** A result's structuredContent, after checking it is not an error. */
export function dataOf(answer: unknown): any {
  const result = answer as CallToolResult;
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
  assert.ok(result.structuredContent, 'structured content');
  return result.structuredContent;
}
