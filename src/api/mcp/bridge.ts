/**
 * The stdio side of `warden mcp`: for MCP clients that launch a command, a relay between their
 * stdin/stdout and the running server's `/mcp`. It holds no key, no ledger, no approval: every
 * message goes to the one server process, authenticated by the agent's token, and the answers
 * (progress notifications included) come back as they are.
 */
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { MCP_PATH } from './http.ts';

export interface BridgeOptions {
  /** The server's base URL (`http://127.0.0.1:7878`). */
  url: URL;
  /** The `Authorization` header value; the one secret the bridge holds. */
  authorization: string;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  /** Where the bridge says what went wrong (stderr): never the token. */
  log(line: string): void;
}

/** JSON-RPC's "server error" range: the server could not be reached, or refused the request. */
const BRIDGE_ERROR = -32000;

/** What a refused HTTP request tells the client: the status and Warden's code and message. */
function describe(err: unknown): string {
  if (err instanceof StreamableHTTPError) {
    const body = /\{.*\}$/s.exec(err.message)?.[0];
    try {
      const { error } = JSON.parse(body ?? '') as { error?: { code?: string; message?: string } };
      if (error?.code) return `warden refused (HTTP ${err.code}, ${error.code}): ${error.message ?? ''}`;
    } catch {}
    return `warden refused (HTTP ${err.code})`;
  }
  const cause = (err as { cause?: { code?: string } })?.cause?.code;
  return `cannot reach the warden server${cause ? ` (${cause})` : ''}: is \`warden start\` running?`;
}

/** Relays until stdin ends (the client went away); resolves when both sides are closed. */
export async function runStdioBridge(options: BridgeOptions): Promise<void> {
  const remote = new StreamableHTTPClientTransport(new URL(MCP_PATH, options.url), {
    requestInit: { headers: { authorization: options.authorization } },
  });
  const local = new StdioServerTransport(options.stdin as never, options.stdout as never);
  const initializing = new Set<string | number>();

  remote.onmessage = (message: JSONRPCMessage) => {
    // The server's answer to initialize fixes the protocol version every later request names.
    if ('result' in message && message.id !== undefined && initializing.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') remote.setProtocolVersion(version);
    }
    void local.send(message);
  };
  remote.onerror = (err) => options.log(describe(err));
  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializing.add(message.id);
    remote.send(message).catch((err: unknown) => {
      const text = describe(err);
      // A request gets its error as an answer (a client would wait forever for one); a notification cannot.
      if (isJSONRPCRequest(message))
        void local.send({ jsonrpc: '2.0', id: message.id, error: { code: BRIDGE_ERROR, message: text } });
      else options.log(text);
    });
  };
  local.onerror = (err) => options.log(`bad message from the client: ${err.message}`);

  const closed = new Promise<void>((resolve) => {
    local.onclose = () => resolve();
  });
  options.stdin.once('end', () => void local.close());
  await remote.start();
  await local.start();
  await closed;
  await remote.close();
}
