/**
 * The OpenAPI 3.1 description of the HTTP API, served at GET /v1/openapi.json. A test validates it
 * with a real OpenAPI validator and checks that it lists every route the app serves.
 */
import { wardenVersion } from '../../core/version.ts';
import { MAX_LIST_LIMIT, REQUEST_FILTERS } from '../../gateway/reads.ts';
import type { RegisteredOperation } from '../../protocols/registry.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const response = (description: string, schema: object = { type: 'object' }) => ({
  description,
  ...json(schema),
});
const failure = (description: string) => response(description, ref('Error'));

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: {
          type: 'string',
          description: 'stable machine code, e.g. LIMIT_EXCEEDED, FORBIDDEN, INVALID_ADDRESS',
        },
        message: { type: 'string' },
        details: { type: 'object' },
      },
    },
  },
};

/** A request's states: the list filters less the one that is not a state. */
const STATUSES = REQUEST_FILTERS.filter((f) => f !== 'risk-acceptable');

const request = {
  type: 'object',
  properties: {
    requestId: { type: 'string' },
    identity: { type: 'string' },
    protocol: { type: 'string' },
    action: { type: 'string' },
    status: { enum: STATUSES },
    scheduledFor: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'when a `scheduled` send leaves (timing jitter: warden.yaml `jitter`); null otherwise',
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    decision: {
      type: 'object',
      description:
        'outcome, code, reason, decidingRule, remedy, hold, trail (every rule and limit with its numbers), risk',
    },
    result: { description: 'the signed event or the transaction hash, when done' },
    error: { type: ['object', 'null'] },
    hold: {
      type: ['object', 'null'],
      properties: { approvals: { type: 'integer' }, delaySeconds: { type: 'integer' } },
    },
  },
};

const heldRequest = {
  allOf: [
    ref('Request'),
    {
      type: 'object',
      properties: {
        intentHash: {
          type: 'string',
          pattern: '^[0-9a-f]{64}$',
          description: 'what an approval is bound to; send it back with approve/deny',
        },
        shortIntentHash: { type: 'string' },
        summary: { type: 'string', description: 'one line: what would be signed' },
        review: {
          type: ['object', 'null'],
          description: 'operation, intent and the full decoded payload as it will be signed',
        },
        reviewable: { type: 'boolean', description: 'false when the payload is gone or does not match' },
        ageSeconds: { type: 'integer' },
        acceptable: { type: 'boolean', description: 'a risk denial an operator may still accept' },
        expiresAt: { type: ['string', 'null'], format: 'date-time' },
        approvals: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              operator: { type: 'string' },
              verdict: { enum: ['approve', 'deny'] },
              at: { type: 'string', format: 'date-time' },
              reason: { type: ['string', 'null'] },
            },
          },
        },
        state: { type: 'string' },
        remainingApprovals: { type: 'integer' },
        releaseAt: { type: ['string', 'null'], format: 'date-time', description: 'when a delay ends' },
      },
    },
  ],
};

/** Answers every route may give: the Host and Origin checks run before anything else. */
const guarded = {
  '403': failure('forbidden, denied by policy, or an Origin that is not allowed (code names why)'),
  '421': failure('MISDIRECTED_REQUEST: the Host header does not name this server'),
};
/** And every authenticated route. */
const authed = {
  ...guarded,
  '401': failure('missing or invalid token'),
  '429': failure('rate limited; Retry-After says when to retry'),
  '503': failure('VAULT_SEALED: the vault sealed itself (its passphrase was changed)'),
};
const withBody = {
  ...authed,
  '400': failure('invalid input (INVALID_REQUEST, INVALID_JSON, INVALID_AMOUNT …)'),
  '413': failure('body too large'),
  '415': failure('UNSUPPORTED_MEDIA_TYPE: send the body as application/json'),
};
const notFound = { '404': failure('no such request or identity') };
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const bearer = [{ bearer: [] }];
const requestResult = { type: 'object', properties: { request: ref('Request') } };

const REASON = { type: 'string', maxLength: 500 };
const REVIEWED_INTENT_HASH = {
  type: 'string',
  pattern: '^[0-9a-f]{64}$',
  description:
    'the intent hash you reviewed (GET /v1/approvals/{id}); refused with APPROVAL_MISMATCH if it differs',
};

/**
 * The request body of an operation's route: its module's schema, plus the `identity` every
 * signing route takes (an agent may name only its own).
 */
function routeBody(op: RegisteredOperation): object {
  const schema = op.requestSchema as { properties?: Record<string, unknown> };
  return {
    ...schema,
    properties: {
      ...schema.properties,
      identity: { type: 'string', description: "optional; must be the token's own identity" },
    },
  };
}

/** Generated from the registry: each enabled operation's route, body and result come from its module. */
export function openApiDocument(
  enabled: readonly RegisteredOperation[],
  monitors: readonly { module: string; path: string }[] = [],
): object {
  const operations = enabled.flatMap((op) => [op.name, ...(op.aliases ?? [])]);
  const paths: Record<string, Record<string, object>> = {};
  const add = (path: string, method: 'get' | 'post', operation: object) => {
    paths[path] = { ...paths[path], [method]: operation };
  };

  for (const op of enabled) {
    for (const path of [op.http.path, ...(op.http.aliases ?? [])]) {
      const alias = path !== op.http.path;
      add(path, 'post', {
        operationId: alias ? `${op.name}.alias` : op.name,
        summary: op.title,
        description: alias ? `${op.description} (an alias of ${op.http.path})` : op.description,
        ...(alias ? { deprecated: true } : {}),
        security: bearer,
        requestBody: { required: true, ...json(routeBody(op)) },
        responses: {
          '200': response('signed (and broadcast), with the result', {
            type: 'object',
            properties: {
              request: {
                allOf: [ref('Request'), { type: 'object', properties: { result: op.resultSchema } }],
              },
            },
          }),
          '202': response('held for approval or delay; poll GET /v1/requests/{id}', requestResult),
          ...withBody,
          '409': failure('IDEMPOTENCY_CONFLICT: the key was used for a different request'),
        },
      });
    }
  }
  add('/v1/dry-run', 'post', {
    summary: 'Evaluate a request against the policy with no side effect',
    security: bearer,
    requestBody: {
      required: true,
      ...json({
        type: 'object',
        additionalProperties: false,
        required: ['operation', 'request'],
        properties: {
          operation: { enum: operations },
          identity: { type: 'string' },
          request: { type: 'object' },
        },
      }),
    },
    responses: { '200': response('the decision with its trail'), ...withBody },
  });
  add('/v1/requests', 'get', {
    summary: 'Requests, newest first (operator, admin, viewer; an agent sees its own)',
    security: bearer,
    parameters: [
      {
        name: 'status',
        in: 'query',
        description: 'a status, or risk-acceptable: RISK_TOO_HIGH denials an operator may still accept',
        schema: { enum: [...REQUEST_FILTERS] },
      },
      { name: 'identity', in: 'query', schema: { type: 'string' } },
      {
        name: 'limit',
        in: 'query',
        schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: 100 },
      },
    ],
    responses: {
      '200': response('the requests', {
        type: 'object',
        properties: { requests: { type: 'array', items: ref('HeldRequest') } },
      }),
      '400': failure('invalid filter'),
      ...authed,
    },
  });
  add('/v1/requests/{id}', 'get', {
    summary: 'A request and its outcome; ?wait=N waits up to N seconds (max 60) while it is pending',
    security: bearer,
    parameters: [
      pathParam('id'),
      { name: 'wait', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 60 } },
    ],
    responses: {
      '200': response('the request', requestResult),
      '400': failure('bad wait'),
      ...authed,
      ...notFound,
    },
  });
  add('/v1/approvals', 'get', {
    summary: 'Held requests (operator, admin, viewer)',
    security: bearer,
    responses: {
      '200': response('the held requests', {
        type: 'object',
        properties: { approvals: { type: 'array', items: ref('HeldRequest') } },
      }),
      ...authed,
    },
  });
  add('/v1/approvals/{id}', 'get', {
    summary:
      'One held request with its full decoded payload, summary, intent hash, approvals and release time (operator, admin, viewer)',
    security: bearer,
    parameters: [pathParam('id')],
    responses: {
      '200': response('the held request', { type: 'object', properties: { approval: ref('HeldRequest') } }),
      ...authed,
      ...notFound,
    },
  });
  const decided = {
    '200': response('the request after the decision', requestResult),
    ...withBody,
    ...notFound,
    '409': failure('REQUEST_NOT_PENDING, or APPROVAL_MISMATCH when the intent hash differs'),
  };
  for (const verdict of ['approve', 'deny']) {
    add(`/v1/approvals/{id}/${verdict}`, 'post', {
      summary: `${verdict} a held request (operator, admin); bound to the exact intent; one operator counts once`,
      security: bearer,
      parameters: [pathParam('id')],
      requestBody: json({
        type: 'object',
        additionalProperties: false,
        properties: { reason: REASON, intentHash: REVIEWED_INTENT_HASH },
      }),
      responses: decided,
    });
  }
  add('/v1/approvals/{id}/accept-risk', 'post', {
    summary:
      'Override a RISK_TOO_HIGH denial: writes a signed risk-acceptance record and evaluates again without risk caps',
    security: bearer,
    parameters: [pathParam('id')],
    requestBody: {
      required: true,
      ...json({
        type: 'object',
        additionalProperties: false,
        required: ['reason'],
        properties: { reason: REASON, intentHash: REVIEWED_INTENT_HASH },
      }),
    },
    responses: decided,
  });
  add('/v1/identities', 'get', {
    summary: 'Identities (public data); an agent sees its own',
    security: bearer,
    responses: { '200': response('the identities'), ...authed },
  });
  add('/v1/identities/{name}', 'get', {
    summary: 'One identity (public data)',
    security: bearer,
    parameters: [pathParam('name')],
    responses: { '200': response('the identity'), ...authed, ...notFound },
  });
  add('/v1/identities/{name}/circuits/rotate', 'post', {
    summary:
      "New Tor circuits for this identity's next requests, no other identity's (operators and admins; audited)",
    security: bearer,
    parameters: [pathParam('name')],
    requestBody: {
      required: false,
      ...json({ type: 'object', additionalProperties: false, properties: { reason: REASON } }),
    },
    responses: { '200': response('rotated, with the audit record'), ...withBody, ...notFound },
  });
  add('/v1/identities/{name}/policy', 'get', {
    summary: 'The policy that applies, explained',
    security: bearer,
    parameters: [pathParam('name')],
    responses: { '200': response('the policy and its explanation'), ...authed, ...notFound },
  });
  add('/v1/ledger', 'get', {
    summary: 'Budget ledger totals and entries (an agent sees its own identity)',
    security: bearer,
    parameters: [{ name: 'identity', in: 'query', schema: { type: 'string' } }],
    responses: { '200': response('totals per window and the entries'), ...authed },
  });
  for (const { module, path } of monitors)
    add(path, 'get', {
      summary: `The ${module} monitor's last reading (operators and viewers: node-level state shared by identities)`,
      security: bearer,
      parameters: [
        {
          name: 'fresh',
          in: 'query',
          schema: { type: 'string', enum: ['1'] },
          description: 'read the backend now',
        },
      ],
      responses: { '200': response(`{"${module}": reading}`), ...authed, ...notFound },
    });
  add('/v1/health', 'get', {
    summary: 'Liveness (no token)',
    responses: {
      '200': response('{"status":"ok"}'),
      '503': response(
        '{"status":"sealed"} once the vault has sealed itself, or {"status":"unavailable"} when the keystore cannot be read',
      ),
      ...guarded,
    },
  });
  add('/v1/openapi.json', 'get', {
    summary: 'This document (no token)',
    responses: { '200': response('the OpenAPI document'), ...guarded },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Warden',
      version: wardenVersion(),
      description:
        'Key vault and signing gateway for AI agents. Every request is checked against a written policy, budgeted in an exact ledger and audited.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'wdn_… token from `warden token create`' },
      },
      schemas: { Error: error, Request: request, HeldRequest: heldRequest },
    },
    paths,
  };
}
