/**
 * The MCP tools of one principal: one per operation of the registry its capabilities allow (its
 * input schema is the operation's request schema), and the fixed tools around them. Every tool
 * calls the same gateway service the HTTP API calls, with the same principal: authentication,
 * rate limits, policy and audit are the gateway's, never this file's.
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { WardenError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import { readBody } from '../../core/validate.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import type { RequestView } from '../../gateway/requests.ts';
import type { RegisteredOperation } from '../../protocols/registry.ts';
import { budget } from './budget.ts';
import { dataResult, PENDING_OR_DONE, requestResult } from './results.ts';
import { waitForRequest } from './wait.ts';

/** What a tool call gets besides its arguments. */
export interface ToolCall {
  gateway: Gateway;
  principal: Principal;
  /** Sends a progress notification when the client asked for them (a progress token). */
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
  signal: AbortSignal;
}

export interface WardenTool {
  definition: Tool;
  call(args: Record<string, unknown>, ctx: ToolCall): Promise<CallToolResult>;
}

/**
 * `nostr.sign_event` → `nostr_sign_event`: dots are allowed by MCP, but several model APIs that
 * clients forward tools to accept only letters, digits, `_` and `-` in a tool name.
 */
export function toolNameOf(operation: string): string {
  return operation.replaceAll('.', '_');
}

const COSTS =
  "Each call is one request under this identity's policy: it counts against the budget windows of the rule that allows it (amounts and fees in base units for payments, one per call where the rule counts calls) and against the token's rate limit. It ends done (the result), held (a human operator must approve it first: follow it with wait_for_request; an agent cannot approve), or as an error result naming the code and the rule that refused it and what would pass. Use dry_run first when unsure; it costs nothing.";

/** A schema used inside another: its `$schema` (the dialect, 2020-12, MCP's default) goes. */
function embedded(schema: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

type JsonSchema = Record<string, unknown>;

/**
 * MCP wants an input schema whose top is `type: object`. An operation's may be an `anyOf` of
 * objects (evm.sign_message: message or messageHex), which model APIs refuse at the top (Claude's
 * rejects every top-level anyOf/oneOf/allOf, and clients then drop the tool): the branches become
 * one object of their properties, none required beyond what every branch requires, and the
 * description says which go together. The operation's parser still decides (it refuses both or
 * neither with INVALID_REQUEST), so the tool accepts no more than the HTTP API does.
 */
export function inputSchemaOf(op: RegisteredOperation): Tool['inputSchema'] {
  const { anyOf, oneOf, allOf: _never, ...rest } = op.requestSchema as JsonSchema;
  const branches = (anyOf ?? oneOf) as JsonSchema[] | undefined;
  if (!branches) return { ...rest, type: 'object' } as Tool['inputSchema'];
  const properties: JsonSchema = { ...((rest.properties as JsonSchema | undefined) ?? {}) };
  const requiredBy = branches.map((b) => new Set((b.required as string[] | undefined) ?? []));
  for (const b of branches) Object.assign(properties, b.properties as JsonSchema | undefined);
  const required = [...(requiredBy[0] ?? [])].filter((name) => requiredBy.every((r) => r.has(name)));
  const ways = branches
    .map((b) => ((b.required as string[] | undefined) ?? []).join(' + ') || 'no field')
    .join('; or ');
  const closed = branches.every((b) => b.additionalProperties === false);
  return {
    ...rest,
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    ...(closed ? { additionalProperties: false } : {}),
    description: `${rest.description ? `${String(rest.description)} ` : ''}Give exactly one of: ${ways}.`,
  } as Tool['inputSchema'];
}

/** A request as an operation, get_request and wait_for_request answer it. */
function requestOutputSchema(result: Readonly<Record<string, unknown>>): Tool['outputSchema'] {
  return {
    type: 'object',
    required: ['requestId', 'status', 'operation', 'identity', 'result', 'hold'],
    properties: {
      requestId: { type: 'string' },
      status: { type: 'string', enum: [...PENDING_OR_DONE] },
      operation: { type: 'string' },
      identity: { type: 'string' },
      result: { anyOf: [embedded(result), { type: 'null' }] },
      hold: {
        anyOf: [
          {
            type: 'object',
            properties: {
              approvals: { type: 'integer' },
              delaySeconds: { type: 'integer' },
              reasons: { type: 'array', items: { type: 'string' } },
              rule: { type: ['string', 'null'] },
              expiresAt: {
                type: 'string',
                format: 'date-time',
                description: 'past this, the hold is closed unapproved (HOLD_EXPIRED)',
              },
            },
          },
          { type: 'null' },
        ],
      },
      error: { type: 'object' },
      scheduledFor: {
        type: 'string',
        format: 'date-time',
        description: 'when a scheduled send leaves (timing jitter)',
      },
      next: { type: 'string', description: 'what to do while the request is not finished' },
    },
  };
}

function operationTool(op: RegisteredOperation): WardenTool {
  return {
    definition: {
      name: toolNameOf(op.name),
      title: op.title,
      description: `${op.description}\n\n${COSTS}`,
      inputSchema: inputSchemaOf(op),
      outputSchema: requestOutputSchema(op.resultSchema),
      annotations: {
        title: op.title,
        readOnlyHint: op.readOnly === true,
        // What signs or pays cannot be undone; handing out an address or an invoice, or reading a
        // balance, can be.
        destructiveHint: op.signer !== 'none' && op.readOnly !== true && op.destructive !== false,
        openWorldHint: op.execute !== undefined,
      },
      _meta: { 'warden/operation': op.name },
    },
    // The identity is the token's: the arguments are the request body only.
    call: async (args, { gateway, principal }) =>
      requestResult(await gateway.requests.submit(principal, op.name, args), op),
  };
}

const REQUEST_ID_PATTERN = '^req_[a-z2-7]{1,64}$';
const REQUEST_ID = {
  type: 'string',
  pattern: REQUEST_ID_PATTERN,
  description: 'the requestId a tool returned',
};

function operationArgs(ops: readonly RegisteredOperation[]) {
  return {
    operation: {
      type: 'string',
      enum: ops.map((o) => o.name),
      description: 'the operation, by its registry name',
    },
    request: { type: 'object', description: "the arguments that operation's tool takes" },
  };
}

/** `{operation, request}` of dry_run and get_budget, checked before the gateway parses `request`. */
function readOperationArgs(args: Record<string, unknown>, required: boolean) {
  const get = readBody(args, ['operation', 'request']);
  const operation = get('operation');
  const request = get('request');
  if (operation === undefined && request === undefined && !required) return undefined;
  if (typeof operation !== 'string')
    throw new WardenError('INVALID_REQUEST', 'operation must be one of the enabled operations');
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new WardenError('INVALID_REQUEST', 'request must be an object');
  return { operation, request };
}

/** `{requestId}` of get_request, `{requestId, timeoutSeconds?}` of wait_for_request. */
function readRequestArgs(args: Record<string, unknown>, wait: boolean) {
  const get = readBody(args, wait ? ['requestId', 'timeoutSeconds'] : ['requestId']);
  const id = get('requestId');
  if (typeof id !== 'string' || !new RegExp(REQUEST_ID_PATTERN).test(id))
    throw new WardenError('INVALID_REQUEST', 'requestId is a request id (req_…)');
  const timeout = wait ? (get('timeoutSeconds') ?? DEFAULT_WAIT_SECONDS) : 0;
  if (
    typeof timeout !== 'number' ||
    !Number.isInteger(timeout) ||
    (wait && (timeout < 1 || timeout > MAX_WAIT_SECONDS))
  )
    throw new WardenError('INVALID_REQUEST', `timeoutSeconds is 1 to ${MAX_WAIT_SECONDS}`);
  return { requestId: id, timeoutSeconds: timeout };
}

/** The longest one wait_for_request call follows a request (clients time out calls, too). */
export const MAX_WAIT_SECONDS = 600;
/** Under the 60 s an MCP SDK client waits for a tool call by default: the answer comes first. */
const DEFAULT_WAIT_SECONDS = 45;

function fixedTools(ops: readonly RegisteredOperation[]): WardenTool[] {
  const anyResult = { type: 'object' } as const;
  return [
    {
      definition: {
        name: 'dry_run',
        title: 'Would this request pass?',
        description:
          "Runs a request through this identity's policy without signing, reserving or recording anything: the decision (allow, hold or deny), the rule that decided, the limits with their numbers, and for a denial what would pass. Free: it counts only against the token's rate limit.",
        inputSchema: { type: 'object', required: ['operation', 'request'], properties: operationArgs(ops) },
        outputSchema: {
          type: 'object',
          required: ['decision'],
          properties: {
            intent: { type: 'object' },
            decision: { type: 'object' },
            policy: { type: 'object' },
          },
        },
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      call: async (args, { gateway, principal }) => {
        const { operation, request } = readOperationArgs(args, true)!;
        const dry = await gateway.requests.dryRun(principal, operation, request);
        const d = dry.decision as { outcome: string; reason: string; decidingRule: string | null };
        return dataResult(
          { intent: dry.intent, decision: dry.decision, policy: dry.policy },
          `Dry run: ${d.outcome}${d.decidingRule ? ` (rule ${d.decidingRule})` : ''}: ${d.reason}`,
        );
      },
    },
    {
      definition: {
        name: 'get_budget',
        title: 'Budget: used, reserved, remaining',
        description:
          'What this identity has committed and reserved per asset; with an operation and request, every budget window that request counts against: used, reserved, cap, remaining, and when enough frees up for it to pass. Free: nothing is reserved.',
        inputSchema: { type: 'object', properties: operationArgs(ops) },
        outputSchema: {
          type: 'object',
          required: ['identity', 'ledger', 'forRequest'],
          properties: {
            identity: { type: 'string' },
            ledger: { type: 'array', items: { type: 'object' } },
            forRequest: { anyOf: [{ type: 'object' }, { type: 'null' }] },
          },
        },
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      call: async (args, { gateway, principal }) => {
        const b = await budget(gateway, principal, readOperationArgs(args, false));
        return dataResult(b, 'Budget of this identity (amounts in base units).');
      },
    },
    {
      definition: {
        name: 'get_request',
        title: 'A request, now',
        description:
          "The current state of one of this identity's requests (held, executing, done with its result, denied, failed). Free.",
        inputSchema: { type: 'object', required: ['requestId'], properties: { requestId: REQUEST_ID } },
        outputSchema: requestOutputSchema(anyResult),
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      call: async (args, { gateway, principal }) => {
        const view = await gateway.requests.get(principal, readRequestArgs(args, false).requestId);
        return requestResult(view, operationOf(gateway, view));
      },
    },
    {
      definition: {
        name: 'wait_for_request',
        title: 'Wait for a held request',
        description: `Follows one of this identity's requests until it is no longer pending: a held request waits for a human operator's approval or denial, or its delay, which may take minutes. Sends progress notifications while it waits; returns the state at timeoutSeconds (default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS}) if it is still pending, so call it again. Free.`,
        inputSchema: {
          type: 'object',
          required: ['requestId'],
          properties: {
            requestId: REQUEST_ID,
            timeoutSeconds: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_WAIT_SECONDS,
              default: DEFAULT_WAIT_SECONDS,
            },
          },
        },
        outputSchema: requestOutputSchema(anyResult),
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      call: async (args, ctx) => {
        const { requestId, timeoutSeconds } = readRequestArgs(args, true);
        const view = await waitForRequest(ctx, requestId, timeoutSeconds);
        return requestResult(view, operationOf(ctx.gateway, view));
      },
    },
    {
      definition: {
        name: 'list_identity',
        title: 'My public keys and addresses',
        description:
          "This token's identity: its public keys and addresses (Nostr pubkey and npub, EVM address, Bitcoin account xpubs). Never a secret. Free.",
        inputSchema: { type: 'object', properties: {} },
        outputSchema: {
          type: 'object',
          required: ['identity'],
          properties: { identity: { type: 'object' } },
        },
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      call: async (args, { gateway, principal }) => {
        readBody(args, [], 'the arguments');
        const identity = gateway.reads.identity(principal, principal.identity ?? '');
        return dataResult({ identity }, `Identity ${identity.name} (${identity.network}).`);
      },
    },
  ];
}

/** The operation a request is of (any enabled one: the identity's requests, whoever asked). */
function operationOf(gateway: Gateway, view: RequestView): RegisteredOperation | undefined {
  return gateway.operations.enabled().find((op) => op.name === `${view.protocol}.${view.action}`);
}

/** The tools this principal may use: operations its capabilities name, then the fixed tools. */
export function toolsFor(gateway: Gateway, principal: Principal): WardenTool[] {
  const ops = gateway.operations
    .enabled()
    .filter((op) => (principal.capabilities as readonly string[]).includes(op.capability));
  return [...ops.map(operationTool), ...fixedTools(ops)];
}
