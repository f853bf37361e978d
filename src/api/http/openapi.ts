/** The OpenAPI 3.1 description of the HTTP API, served at GET /v1/openapi.json. */
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

const request = {
  type: 'object',
  properties: {
    requestId: { type: 'string' },
    identity: { type: 'string' },
    protocol: { type: 'string' },
    action: { type: 'string' },
    status: { enum: ['held', 'executing', 'done', 'denied', 'failed', 'unknown'] },
    decision: {
      type: 'object',
      description:
        'outcome, code, reason, decidingRule, remedy, hold, trail (every rule and limit with its numbers), risk',
    },
    result: { description: 'the signed event or the transaction hash, when done' },
    error: { type: ['object', 'null'] },
  },
};

const amount = {
  type: 'string',
  pattern: '^[0-9]{1,78}$',
  description: 'integer in base units (wei), as a decimal string',
};

const bodies: Record<string, object> = {
  'nostr.sign': {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'content'],
    properties: {
      kind: { type: 'integer', minimum: 0, maximum: 65535 },
      content: { type: 'string' },
      tags: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
      created_at: { type: 'integer', description: 'unix seconds; default now; at most one day from now' },
      identity: { type: 'string', description: "optional; must be the token's own identity" },
      idempotencyKey: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
    },
  },
  'evm.send': {
    type: 'object',
    additionalProperties: false,
    required: ['chainId', 'to', 'value'],
    properties: {
      chainId: { type: 'integer', minimum: 1 },
      to: {
        type: 'string',
        pattern: '^0x[0-9a-fA-F]{40}$',
        description: 'EIP-55 checksum verified when mixed case',
      },
      value: amount,
      maxFeePerGas: amount,
      maxPriorityFeePerGas: amount,
      identity: { type: 'string' },
      idempotencyKey: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
    },
  },
};

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const errors = {
  '400': { description: 'invalid input', ...json(error) },
  '401': { description: 'missing or invalid token', ...json(error) },
  '403': { description: 'forbidden, or denied by policy (code names why)', ...json(error) },
  '413': { description: 'body too large', ...json(error) },
  '429': { description: 'rate limited', ...json(error) },
};

export function openApiDocument(operations: string[]): object {
  const paths: Record<string, object> = {};
  for (const op of operations) {
    const path = `/v1/${op.replace('.', '/')}`;
    paths[path] = {
      post: {
        summary:
          op === 'nostr.sign'
            ? 'Sign a NIP-01 event for the token identity'
            : 'Build, sign and broadcast an EIP-1559 native transfer',
        security: [{ bearer: [] }],
        requestBody: { required: true, ...json(bodies[op] ?? { type: 'object' }) },
        responses: {
          '200': { description: 'signed', ...json({ type: 'object', properties: { request } }) },
          '202': {
            description: 'held for approval or delay; poll GET /v1/requests/{id}',
            ...json({ type: 'object', properties: { request } }),
          },
          ...errors,
        },
      },
    };
  }
  paths['/v1/dry-run'] = {
    post: {
      summary: 'Evaluate a request against the policy with no side effect',
      security: [{ bearer: [] }],
      requestBody: json({
        type: 'object',
        required: ['operation', 'request'],
        properties: {
          operation: { enum: operations },
          identity: { type: 'string' },
          request: { type: 'object' },
        },
      }),
      responses: {
        '200': { description: 'the decision with its trail', ...json({ type: 'object' }) },
        ...errors,
      },
    },
  };
  paths['/v1/requests/{id}'] = {
    get: {
      summary: 'A request and its outcome; ?wait=N waits up to N seconds (max 60) while it is pending',
      security: [{ bearer: [] }],
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'wait', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 60 } },
      ],
      responses: { '200': json({ type: 'object', properties: { request } }), ...errors },
    },
  };
  paths['/v1/approvals'] = {
    get: {
      summary: 'Held requests (operator, admin, viewer)',
      security: [{ bearer: [] }],
      responses: { '200': json({ type: 'object' }), ...errors },
    },
  };
  for (const verdict of ['approve', 'deny']) {
    paths[`/v1/approvals/{id}/${verdict}`] = {
      post: {
        summary: `${verdict} a held request (operator, admin); bound to the exact intent; one operator counts once`,
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: json({
          type: 'object',
          properties: {
            reason: { type: 'string', maxLength: 500 },
            intentHash: {
              type: 'string',
              pattern: '^[0-9a-f]{64}$',
              description:
                'the intent hash you reviewed (from GET /v1/approvals); refused with APPROVAL_MISMATCH if it differs',
            },
          },
        }),
        responses: { '200': json({ type: 'object', properties: { request } }), ...errors },
      },
    };
  }
  paths['/v1/approvals/{id}/accept-risk'] = {
    post: {
      summary:
        'Override a RISK_TOO_HIGH denial: writes a signed risk-acceptance record and evaluates again without risk caps',
      security: [{ bearer: [] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: json({
        type: 'object',
        required: ['reason'],
        properties: { reason: { type: 'string', maxLength: 500 } },
      }),
      responses: { '200': json({ type: 'object', properties: { request } }), ...errors },
    },
  };
  paths['/v1/identities'] = {
    get: {
      summary: 'Identities (public data); an agent sees its own',
      security: [{ bearer: [] }],
      responses: { '200': json({ type: 'object' }), ...errors },
    },
  };
  paths['/v1/identities/{name}'] = {
    get: {
      summary: 'One identity (public data)',
      security: [{ bearer: [] }],
      responses: { '200': json({ type: 'object' }), ...errors },
    },
  };
  paths['/v1/identities/{name}/policy'] = {
    get: {
      summary: 'The policy that applies, explained',
      security: [{ bearer: [] }],
      responses: { '200': json({ type: 'object' }), ...errors },
    },
  };
  paths['/v1/ledger'] = {
    get: {
      summary: 'Budget ledger totals and entries',
      security: [{ bearer: [] }],
      responses: { '200': json({ type: 'object' }), ...errors },
    },
  };
  paths['/v1/health'] = {
    get: {
      summary:
        'Liveness: {"status":"ok"}; 503 {"status":"sealed"} once the vault has sealed itself, or {"status":"unavailable"} when the keystore cannot be read',
      responses: { '200': json({ type: 'object' }), '503': json({ type: 'object' }) },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Warden',
      version: '0.2.0',
      description:
        'Key vault and signing gateway for AI agents. Every request is checked against a written policy, budgeted in an exact ledger and audited.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'wdn_… token from `warden token create`' },
      },
      schemas: { Error: error, Request: request },
    },
    paths,
  };
}
