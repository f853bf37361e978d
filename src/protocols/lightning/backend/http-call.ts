/**
 * One HTTP exchange with a Lightning backend's REST API through net/, whichever backend: the
 * credential goes in the header its caller names (and nowhere else), the answer is read with a
 * size limit and parsed as JSON. Not reached → BACKEND_UNREACHABLE (`sent: false` when nothing
 * left); too large or not JSON → BACKEND_REJECTED. The URL's path and the body are in no error.
 */
import { WardenError } from '../../../core/errors.ts';
import { type Net, readTextLimited } from '../../../net/http.ts';
import { unreachableBackend } from '../../backend-endpoints.ts';
import { type BackendName, parseAnswer, rejectedBy } from './answers.ts';

const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export interface BackendConnection {
  base: URL;
  net: Net;
  identity: string | null;
}

export interface Exchange {
  method: 'GET' | 'POST';
  path: string;
  /** The credential's header (and any other); built by the caller at each request, never kept. */
  headers: Record<string, string>;
  body: unknown;
  what: string;
  signal?: AbortSignal;
}

export async function openExchange(
  c: BackendConnection,
  backend: BackendName,
  x: Exchange,
): Promise<Response> {
  const url = new URL(x.path, c.base);
  try {
    return await c.net.fetch(
      url,
      {
        method: x.method,
        headers: {
          ...x.headers,
          ...(x.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(x.body === undefined ? {} : { body: JSON.stringify(x.body) }),
        ...(x.signal ? { signal: x.signal } : {}),
      },
      { identity: c.identity },
    );
  } catch (err) {
    throw unreachableBackend(err, 'lightning', backend, x.what, url);
  }
}

/** A unary call: its HTTP status and its JSON, whatever the status (the caller reads refusals). */
export async function jsonExchange(
  c: BackendConnection,
  backend: BackendName,
  x: Exchange,
): Promise<{ status: number; json: unknown }> {
  const response = await openExchange(c, backend, x);
  let text: string;
  try {
    text = await readTextLimited(response, MAX_REPLY_BYTES);
  } catch (err) {
    if (err instanceof WardenError && err.details.reason === 'too_large')
      throw rejectedBy(backend, x.what, { reason: 'too_large' });
    throw unreachableBackend(err, 'lightning', backend, x.what, new URL(x.path, c.base));
  }
  return { status: response.status, json: parseAnswer(backend, text, x.what) };
}
