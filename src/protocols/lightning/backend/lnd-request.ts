/**
 * One exchange with lnd's REST gateway through net/: the macaroon in `Grpc-Metadata-macaroon`
 * (hex), answers read with a size limit, streams read line by line. Failures in the neutral
 * backend codes (`details.protocol: 'lightning'`): not reached → BACKEND_UNREACHABLE, refused or
 * unreadable → BACKEND_REJECTED, the macaroon refused → LIGHTNING_BACKEND_AUTH. The macaroon, the
 * URL's path and the request body never appear in an error; lnd's words only sanitized.
 */
import { hex } from '@scure/base';
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import { malformedAnswer, parseAnswer, rejectedBy, sanitized } from './answers.ts';
import { type BackendConnection, type Exchange, jsonExchange, openExchange } from './http-call.ts';

/** A Payment update with many HTLC attempts is a few kB; a line of a MiB is not an update. */
const MAX_LINE_BYTES = 1024 * 1024;

export const malformed = (what: string, why: string): WardenError => malformedAnswer('lnd', what, why);

export const rejected = (what: string, details: ErrorDetails): WardenError =>
  rejectedBy('lnd', what, details);

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

export interface LndConnection extends BackendConnection {
  macaroon: Uint8Array;
}

const parseJson = (text: string, what: string): unknown => parseAnswer('lnd', text, what);

/** The macaroon (hex) in lnd's header, written at each request from the lent bytes. */
function exchange(
  c: LndConnection,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  what: string,
  signal?: AbortSignal,
): Exchange {
  return {
    method,
    path,
    headers: { 'grpc-metadata-macaroon': hex.encode(c.macaroon) },
    body,
    what,
    ...(signal ? { signal } : {}),
  };
}

/** A unary call: its JSON when HTTP 200, else the refusal lnd wrote. */
export function lndCall(
  c: LndConnection,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  what: string,
): Promise<{ status: number; json: unknown }> {
  return jsonExchange(c, 'lnd', exchange(c, method, path, body, what));
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
  const response = await openExchange(c, 'lnd', exchange(c, method, path, body, what, signal));
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
