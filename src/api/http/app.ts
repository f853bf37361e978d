import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { asWardenError, WardenError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import type { RequestView } from '../../gateway/requests.ts';
import { httpStatusFor } from './errors.ts';
import { openApiDocument } from './openapi.ts';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

type Env = { Bindings: HttpBindings; Variables: { principal: Principal } };

function errorBody(code: string, message: string, details: unknown = {}) {
  return { error: { code, message, details } };
}

async function readJson(c: Context<Env>): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new WardenError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  const text = await c.req.text();
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

/** How a request's state maps to HTTP: done 200, pending 202, denied 403, failed with its code. */
function requestResponse(c: Context<Env>, view: RequestView) {
  if (view.status === 'done') return c.json({ request: view }, 200);
  if (view.status === 'held' || view.status === 'executing' || view.status === 'unknown')
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

function clientKey(c: Context<Env>): string {
  return `ip:${c.env?.incoming?.socket?.remoteAddress ?? 'unknown'}`;
}

/** The HTTP front door: a thin adapter onto the gateway. */
export function createHttpApp(gateway: Gateway, options: { bodyLimit?: number } = {}): Hono<Env> {
  const app = new Hono<Env>();
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;

  app.onError((err, c) => {
    const e = asWardenError(err);
    if (e.code === 'INTERNAL') gateway.ctx.logger.error({ err }, 'internal error');
    const status = httpStatusFor(e.code) as ContentfulStatusCode;
    if (e.code === 'RATE_LIMITED') c.header('Retry-After', String(e.details.retryAfterSeconds ?? 1));
    return c.json(errorBody(e.code, e.message, e.details), status);
  });
  app.notFound((c) => c.json(errorBody('NOT_FOUND', 'no such endpoint'), 404));

  app.use(
    '*',
    bodyLimit({
      maxSize: limit,
      onError: (c) => c.json(errorBody('PAYLOAD_TOO_LARGE', `the body exceeds ${limit} bytes`), 413),
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
  });

  // Monitors see a sealed vault (passphrase changed elsewhere) or an unreadable keystore as down.
  app.get('/v1/health', (c) => {
    const status = gateway.health();
    return status === 'ok' ? c.json({ status }) : c.json({ status }, 503);
  });
  app.get('/v1/openapi.json', (c) => c.json(openApiDocument(gateway.operations)));

  app.use('/v1/*', async (c, next) => {
    const principal = await gateway.authenticate(c.req.header('authorization'), clientKey(c));
    c.set('principal', principal);
    await next();
  });

  const submitRoute = (path: string, operation: string) =>
    app.post(path, async (c) => {
      const { identity, rest } = splitIdentity(await readJson(c));
      return requestResponse(c, await gateway.submit(c.get('principal'), operation, rest, identity));
    });
  submitRoute('/v1/nostr/sign', 'nostr.sign');
  submitRoute('/v1/evm/send', 'evm.send');

  app.post('/v1/dry-run', async (c) => {
    const body = await readJson(c);
    const { operation, request, identity, ...unknown } = body;
    const extra = Object.keys(unknown)[0];
    if (extra !== undefined)
      throw new WardenError('INVALID_REQUEST', `unknown field "${extra.slice(0, 64)}"`);
    if (typeof operation !== 'string')
      throw new WardenError('INVALID_REQUEST', 'operation must be one of the enabled operations');
    if (identity !== undefined && typeof identity !== 'string')
      throw new WardenError('INVALID_REQUEST', 'identity must be a string');
    return c.json(
      await gateway.dryRun(c.get('principal'), operation, request, identity as string | undefined),
    );
  });

  app.get('/v1/requests/:id', async (c) => {
    const wait = Number(c.req.query('wait') ?? 0);
    if (!Number.isFinite(wait) || wait < 0 || wait > 60)
      throw new WardenError('INVALID_REQUEST', 'wait is 0 to 60 seconds');
    const view = await gateway.getRequest(c.get('principal'), c.req.param('id'), wait);
    return c.json({ request: view });
  });

  app.get('/v1/approvals', async (c) =>
    c.json({ approvals: await gateway.listApprovals(c.get('principal')) }),
  );
  for (const verdict of ['approve', 'deny'] as const) {
    app.post(`/v1/approvals/:id/${verdict}`, async (c) => {
      const body =
        c.req.header('content-length') === '0' || !c.req.header('content-type') ? {} : await readJson(c);
      const { reason, intentHash, ...unknown } = body;
      if (Object.keys(unknown).length > 0)
        throw new WardenError('INVALID_REQUEST', 'only "reason" and "intentHash" are accepted');
      if (reason !== undefined && typeof reason !== 'string')
        throw new WardenError('INVALID_REQUEST', 'reason must be a string');
      if (
        intentHash !== undefined &&
        (typeof intentHash !== 'string' || !/^[0-9a-f]{64}$/.test(intentHash))
      ) {
        throw new WardenError('INVALID_REQUEST', 'intentHash is 64 lower-case hex digits');
      }
      const view = await gateway.decide(
        c.get('principal'),
        c.req.param('id'),
        verdict,
        (reason as string | undefined) ?? null,
        (intentHash as string | undefined) ?? null,
      );
      return c.json({ request: view });
    });
  }

  app.post('/v1/approvals/:id/accept-risk', async (c) => {
    const { reason, ...unknown } = await readJson(c);
    if (Object.keys(unknown).length > 0)
      throw new WardenError('INVALID_REQUEST', 'only "reason" is accepted');
    if (typeof reason !== 'string' || reason.trim() === '')
      throw new WardenError('INVALID_REQUEST', 'a reason is required to accept a risk');
    return c.json({ request: await gateway.acceptRisk(c.get('principal'), c.req.param('id'), reason) });
  });

  app.get('/v1/identities', (c) => c.json({ identities: gateway.listIdentities(c.get('principal')) }));
  app.get('/v1/identities/:name', (c) =>
    c.json({ identity: gateway.getIdentity(c.get('principal'), c.req.param('name')) }),
  );
  app.get('/v1/identities/:name/policy', async (c) =>
    c.json(await gateway.getPolicy(c.get('principal'), c.req.param('name'))),
  );
  app.get('/v1/ledger', async (c) =>
    c.json(await gateway.ledger(c.get('principal'), c.req.query('identity'))),
  );

  return app;
}
