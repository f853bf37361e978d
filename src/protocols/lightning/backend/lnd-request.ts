/**
 * One exchange with lnd's REST gateway through net/: the macaroon in `Grpc-Metadata-macaroon`
 * (hex), answers read with a size limit, streams read line by line. Failures in the neutral
 * backend codes (`details.protocol: 'lightning'`): not reached → BACKEND_UNREACHABLE, refused or
 * unreadable → BACKEND_REJECTED, the macaroon refused → LIGHTNING_BACKEND_AUTH. The macaroon, the
 * URL's path and the request body never appear in an error; lnd's words only sanitized.
 */
import { hex } from '@scure/base';
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import { type Net, readTextLimited } from '../../../net/http.ts';
import { unreachableBackend } from '../../backend-endpoints.ts';

const MAX_REPLY_BYTES = 4 * 1024 * 1024;
/** A Payment update with many HTLC attempts is a few kB; a line of a MiB is not an update. */
const MAX_LINE_BYTES = 1024 * 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** lnd's words, fit for an error's details: control characters gone, 200 characters at most. */
export function sanitized(text: string, max = 200): string {
  const clean = text.replace(CONTROL, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export function malformed(what: string, why: string): WardenError {
  return new WardenError('BACKEND_REJECTED', `lnd's answer to ${what} is malformed: ${why}`, {
    protocol: 'lightning',
    what,
    reason: 'malformed',
  });
}

export function rejected(what: string, details: ErrorDetails): WardenError {
  return new WardenError('BACKEND_REJECTED', `lnd refused ${what}`, {
    protocol: 'lightning',
    what,
    ...details,
  });
}

/** A gRPC status as the gateway writes it, or null when `value` is not one. */
export function grpcStatusOf(value: unknown): { code: number; message: string } | null {
  if (typeof value !== 'object' || value === null) return null;
  const { code, message } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(code) || typeof message !== 'string') return null;
  return { code: code as number, message: sanitized(message) };
}

/**
 * lnd refuses a bad macaroon with gRPC code 2 (Unknown, HTTP 500) and words of its macaroon
 * service; a proxy in front of it may say 401 or 403.
 */
const AUTH_WORDS = /macaroon|verification failed|permission denied|invalid ID|unknown version/i;

export function refusal(what: string, httpStatus: number, body: unknown): WardenError {
  const st = grpcStatusOf(body);
  if (httpStatus === 401 || httpStatus === 403 || (st && st.code === 2 && AUTH_WORDS.test(st.message)))
    return new WardenError('LIGHTNING_BACKEND_AUTH', `lnd refused Warden's macaroon for ${what}`, {
      protocol: 'lightning',
      what,
      httpStatus,
      message: st?.message ?? '',
    });
  return rejected(what, { httpStatus, grpcCode: st?.code ?? null, message: st?.message ?? '' });
}

export interface LndConnection {
  base: URL;
  net: Net;
  identity: string | null;
  macaroon: Uint8Array;
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw malformed(what, 'not JSON');
  }
}

async function open(
  c: LndConnection,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  what: string,
  signal?: AbortSignal,
): Promise<Response> {
  const url = new URL(path, c.base);
  try {
    return await c.net.fetch(
      url,
      {
        method,
        headers: {
          'grpc-metadata-macaroon': hex.encode(c.macaroon),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      },
      { identity: c.identity },
    );
  } catch (err) {
    throw unreachableBackend(err, 'lightning', 'lnd', what, url);
  }
}

/** A unary call: its JSON when HTTP 200, else the refusal lnd wrote. */
export async function lndCall(
  c: LndConnection,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  what: string,
): Promise<{ status: number; json: unknown }> {
  const response = await open(c, method, path, body, what);
  let text: string;
  try {
    text = await readTextLimited(response, MAX_REPLY_BYTES);
  } catch (err) {
    if (err instanceof WardenError && err.details.reason === 'too_large')
      throw rejected(what, { reason: 'too_large' });
    throw err;
  }
  return { status: response.status, json: parseJson(text, what) };
}

/**
 * A streaming call (newline-delimited JSON): its HTTP status, then each line as it comes.
 * The iteration ends when lnd closes the stream; a read that fails (the net's deadline, `signal`,
 * a reset) ends it too, as `{ cut: true }`, since for a stream that is not an answer but its end.
 */
export async function lndStream(
  c: LndConnection,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  what: string,
  signal: AbortSignal,
): Promise<{ status: number; lines: AsyncGenerator<unknown, { cut: boolean }> }> {
  const response = await open(c, method, path, body, what, signal);
  async function* lines(): AsyncGenerator<unknown, { cut: boolean }> {
    const reader = response.body?.getReader();
    if (!reader) return { cut: false };
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let pending = new Uint8Array(0);
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch {
          return { cut: true };
        }
        if (chunk.done) break;
        const joined = new Uint8Array(pending.length + chunk.value.length);
        joined.set(pending);
        joined.set(chunk.value, pending.length);
        let start = 0;
        for (let i = joined.indexOf(10); i !== -1; i = joined.indexOf(10, start)) {
          const line = joined.subarray(start, i);
          start = i + 1;
          if (line.length > 0) yield parseLine(line);
        }
        pending = joined.slice(start);
        if (pending.length > MAX_LINE_BYTES) throw rejected(what, { reason: 'too_large' });
      }
      if (pending.length > 0) yield parseLine(pending);
      return { cut: false };
    } finally {
      await reader.cancel().catch(() => {});
    }
    function parseLine(bytes: Uint8Array): unknown {
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        throw malformed(what, 'not UTF-8');
      }
      return parseJson(text, what);
    }
  }
  return { status: response.status, lines: lines() };
}
