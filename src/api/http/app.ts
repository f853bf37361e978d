import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { asWardenError, WardenError } from '../../core/errors.ts';
import { toJsonValue } from '../../core/json.ts';
import type { Principal } from '../../core/principal.ts';
import { readBody } from '../../core/validate.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { MAX_LIST_LIMIT, REQUEST_FILTERS, type RequestFilter } from '../../gateway/reads.ts';
import type { RequestView } from '../../gateway/requests.ts';
import { MCP_PATH, mountMcp } from '../mcp/http.ts';
import { bodyText, declaredOversize } from './body.ts';
import { httpStatusFor, withLegacyCode } from './errors.ts';
import { type GuardOptions, installGuards } from './guards.ts';
import { openApiDocument } from './openapi.ts';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

type Env = { Bindings: HttpBindings; Variables: { principal: Principal; bodyLimit: number } };

/** `{error: {code, message, details}}`; a neutral backend code also names its legacy one (errors.ts). */
function errorBody(code: string, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, details: withLegacyCode(code, details) } };
}

/**
 * The body as a JSON object. A body that is not declared application/json is refused (415),
 * never read as empty: an approval's intent-hash binding must not fail open. Only where the body
 * is optional (`emptyAllowed`) does a request with no body bytes at all count as `{}`.
 */
async function readJson(c: Context<Env>, emptyAllowed = false): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type');
  const text = await bodyText(c, c.get('bodyLimit'));
  if (emptyAllowed && text.length === 0 && type === undefined) return {};
  if (!/^application\/json\s*(;|$)/i.test(type ?? '')) {
    throw new WardenError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json', {
      contentType: (type ?? 'none').slice(0, 64),
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WardenError('INVALID_JSON', 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WardenError('INVALID_REQUEST', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** `identity` may be named in a body; for an agent it must be its own (checked by the gateway). */
function splitIdentity(body: Record<string, unknown>): {
  identity: string | undefined;
  rest: Record<string, unknown>;
} {
  const { identity, ...rest } = body;
  if (identity !== undefined && typeof identity !== 'string')
    throw new WardenError('INVALID_REQUEST', 'identity must be a string');
  return { identity: identity as string | undefined, rest };
}

/**
 * `{reason?, intentHash?}` of approve, deny and accept-risk: the intent hash the operator reviewed
 * binds the decision to that exact request.
 */
function decisionBody(body: Record<string, unknown>): { reason: string | null; intentHash: string | null } {
  const get = readBody(body, ['reason', 'intentHash']);
  const reason = checkedReason(get('reason'));
  const intentHash = get('intentHash');
  if (intentHash !== undefined && (typeof intentHash !== 'string' || !/^[0-9a-f]{64}$/.test(intentHash)))
    throw new WardenError('INVALID_REQUEST', 'intentHash is 64 lower-case hex digits');
  return { reason, intentHash: (intentHash as string | undefined) ?? null };
}

/** An operator's reason, for the audit record: optional, at most 500 characters. */
function checkedReason(reason: unknown): string | null {
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500))
    throw new WardenError('INVALID_REQUEST', 'reason must be a string of at most 500 characters');
  return (reason as string | undefined) ?? null;
}

/** How a request's state maps to HTTP: done 200, pending 202, denied 403, failed with its code. */
function requestResponse(c: Context<Env>, view: RequestView) {
  if (view.status === 'done') return c.json({ request: view }, 200);
  if (
    view.status === 'held' ||
    view.status === 'scheduled' ||
    view.status === 'executing' ||
    view.status === 'unknown'
  )
    return c.json({ request: view }, 202);
  const decision = view.decision as { code?: string; reason?: string } | null;
  const code =
    view.status === 'denied'
      ? (view.error?.code ?? decision?.code ?? 'POLICY_DENIED')
      : (view.error?.code ?? 'INTERNAL');
  const message = view.status === 'denied' ? (decision?.reason ?? 'denied by policy') : 'the request failed';
  const status = view.status === 'denied' ? 403 : (httpStatusFor(code as never) as ContentfulStatusCode);
  return c.json(errorBody(code, message, { requestId: view.requestId, request: view }), status);
}

/** The HTTP front door: a thin adapter onto the gateway. */
export function createHttpApp(
  gateway: Gateway,
  options: { bodyLimit?: number } & GuardOptions = {},
): Hono<Env> {
  const app = new Hono<Env>();
  // First of all middleware: headers on every answer, Host and Origin checked before the body is read.
  installGuards(app, options);
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;

  app.onError((err, c) => {
    const e = asWardenError(err);
    if (e.code === 'INTERNAL') gateway.logger.error({ err }, 'internal error');
    const status = httpStatusFor(e.code) as ContentfulStatusCode;
    if (e.code === 'RATE_LIMITED') c.header('Retry-After', String(e.details.retryAfterSeconds ?? 1));
    if (e.code === 'PAYLOAD_TOO_LARGE') c.header('Connection', 'close');
    return c.json(errorBody(e.code, e.message, e.details), status);
  });
  app.notFound((c) => c.json(errorBody('NOT_FOUND', 'no such endpoint'), 404));

  // Every body at most `limit` bytes (body.ts): a declared oversize is refused here, before
  // authentication; a body is read only by the handler that needs it. The rest of an oversized
  // body is never read, so the connection cannot carry another request: say so (onError too), or
  // a keep-alive client sends its next one into a socket that is about to close.
  const payloadTooLarge = (c: Context<Env>) => {
    c.header('Connection', 'close');
    return c.json(errorBody('PAYLOAD_TOO_LARGE', `the body exceeds ${limit} bytes`), 413);
  };
  app.use('*', async (c, next) => {
    if (declaredOversize(c, limit)) return payloadTooLarge(c);
    c.set('bodyLimit', limit);
    await next();
  });
  // The MCP transport reads its web Request's body itself: a chunked one is counted here.
  app.use(MCP_PATH, bodyLimit({ maxSize: limit, onError: payloadTooLarge }));

  // Monitors see a sealed vault (passphrase changed elsewhere) or an unreadable keystore as down.
  app.get('/v1/health', (c) => {
    const status = gateway.health();
    return status === 'ok' ? c.json({ status }) : c.json({ status }, 503);
  });
  app.get('/v1/openapi.json', (c) =>
    c.json(openApiDocument(gateway.operations.enabled(), gateway.monitors.routes)),
  );
  // MCP over Streamable HTTP, behind the same guards and body limit; it authenticates itself.
  mountMcp(app, gateway, limit);

  app.use('/v1/*', async (c, next) => {
    const principal = await gateway.access.authenticate(c.req.header('authorization'));
    c.set('principal', principal);
    await next();
  });

  const submitRoute = (path: string, operation: string) =>
    app.post(path, async (c) => {
      const { identity, rest } = splitIdentity(await readJson(c));
      return requestResponse(c, await gateway.requests.submit(c.get('principal'), operation, rest, identity));
    });
  // One route per enabled operation of the registry (and its older paths, kept as aliases).
  for (const op of gateway.operations.enabled()) {
    for (const path of [op.http.path, ...(op.http.aliases ?? [])]) submitRoute(path, op.name);
  }

  app.post('/v1/dry-run', async (c) => {
    const get = readBody(await readJson(c), ['operation', 'request', 'identity']);
    const operation = get('operation');
    const request = get('request');
    const identity = get('identity');
    if (typeof operation !== 'string')
      throw new WardenError('INVALID_REQUEST', 'operation must be one of the enabled operations');
    if (identity !== undefined && typeof identity !== 'string')
      throw new WardenError('INVALID_REQUEST', 'identity must be a string');
    return c.json(
      await gateway.requests.dryRun(c.get('principal'), operation, request, identity as string | undefined),
    );
  });

  app.get('/v1/requests/:id', async (c) => {
    const wait = Number(c.req.query('wait') ?? 0);
    if (!Number.isFinite(wait) || wait < 0 || wait > 60)
      throw new WardenError('INVALID_REQUEST', 'wait is 0 to 60 seconds');
    const view = await gateway.requests.get(c.get('principal'), c.req.param('id'), wait);
    return c.json({ request: view });
  });

  app.get('/v1/approvals', async (c) =>
    c.json({ approvals: await gateway.approvals.list(c.get('principal')) }),
  );
  app.get('/v1/approvals/:id', async (c) =>
    c.json({ approval: await gateway.approvals.show(c.get('principal'), c.req.param('id')) }),
  );
  app.get('/v1/requests', async (c) => {
    const status = c.req.query('status');
    if (status !== undefined && !(REQUEST_FILTERS as readonly string[]).includes(status))
      throw new WardenError('INVALID_REQUEST', `status is one of ${REQUEST_FILTERS.join(', ')}`);
    const limitText = c.req.query('limit');
    if (limitText !== undefined && !/^[1-9][0-9]{0,3}$/.test(limitText))
      throw new WardenError('INVALID_REQUEST', `limit is 1 to ${MAX_LIST_LIMIT}`);
    const identity = c.req.query('identity');
    const requests = await gateway.reads.requests(c.get('principal'), {
      ...(status === undefined ? {} : { status: status as RequestFilter }),
      ...(identity === undefined ? {} : { identity }),
      ...(limitText === undefined ? {} : { limit: Number(limitText) }),
    });
    return c.json({ requests });
  });
  for (const verdict of ['approve', 'deny'] as const) {
    app.post(`/v1/approvals/:id/${verdict}`, async (c) => {
      const { reason, intentHash } = decisionBody(await readJson(c, true));
      const view = await gateway.approvals.decide(
        c.get('principal'),
        c.req.param('id'),
        verdict,
        reason,
        intentHash,
      );
      return c.json({ request: view });
    });
  }

  app.post('/v1/approvals/:id/accept-risk', async (c) => {
    const { reason, intentHash } = decisionBody(await readJson(c));
    if (reason === null || reason.trim() === '')
      throw new WardenError('INVALID_REQUEST', 'a reason is required to accept a risk');
    return c.json({
      request: await gateway.approvals.acceptRisk(c.get('principal'), c.req.param('id'), reason, intentHash),
    });
  });

  app.get('/v1/identities', (c) => c.json({ identities: gateway.reads.identities(c.get('principal')) }));
  app.get('/v1/identities/:name', (c) =>
    c.json({ identity: gateway.reads.identity(c.get('principal'), c.req.param('name')) }),
  );
  app.post('/v1/identities/:name/circuits/rotate', async (c) => {
    const reason = checkedReason(readBody(await readJson(c, true), ['reason'])('reason'));
    return c.json({
      rotated: await gateway.admin.rotateCircuits(c.get('principal'), c.req.param('name'), reason),
    });
  });
  app.get('/v1/identities/:name/policy', async (c) =>
    c.json(await gateway.reads.policy(c.get('principal'), c.req.param('name'))),
  );
  app.get('/v1/ledger', async (c) => {
    const { totals, entries } = await gateway.reads.ledger(c.get('principal'), c.req.query('identity'));
    return c.json({ totals: toJsonValue(totals), entries });
  });
  // Each module's monitor (GET /v1/lightning/channels): its last reading, `?fresh=1` reads now.
  for (const { module, path } of gateway.monitors.routes)
    app.get(path, async (c) =>
      c.json({
        [module]: await gateway.reads.monitor(c.get('principal'), module, c.req.query('fresh') === '1'),
      }),
    );

  return app;
}
