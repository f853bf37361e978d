import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { WardenError } from '../../core/errors.ts';

function tooLarge(limit: number): WardenError {
  return new WardenError('PAYLOAD_TOO_LARGE', `the body exceeds ${limit} bytes`, { limit });
}

/** A Content-Length over the limit (or not a length at all): refused without reading a byte. */
export function declaredOversize(c: Context, limit: number): boolean {
  const declared = c.req.header('content-length');
  if (declared === undefined) return false;
  return !/^\d{1,15}$/.test(declared.trim()) || Number(declared) > limit;
}

function readIncoming(incoming: HttpBindings['incoming'], limit: number): Promise<Uint8Array> {
  // Read once, by one handler: a body gone already is never taken for an empty one.
  if (incoming.readableEnded || incoming.readableDidRead)
    return Promise.reject(new WardenError('INTERNAL', 'the request body was read twice'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: unknown, body?: Uint8Array) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      if (err) reject(err);
      else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      // The rest is never read: the answer closes the connection (app.ts, onError).
      if (size > limit) {
        incoming.pause();
        done(tooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => done(null, Buffer.concat(chunks, size));
    const onError = (err: Error) =>
      done(new WardenError('INVALID_REQUEST', 'the request body could not be read', {}, { cause: err }));
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', onError);
  });
}

/**
 * Request bodies, at most `limit` bytes. A declared Content-Length over the limit is refused
 * before anything else is done with the request (`declaredOversize`, by app.ts's first middleware); a body
 * is read only by the handler that needs it, after authentication, and refused as soon as it
 * grows past the limit (a chunked body declares nothing).
 *
 * Under Node the body is read straight from the IncomingMessage: a JSON body of a few hundred
 * bytes then costs no web Request, Headers, AbortSignal and ReadableStream of its own (about a
 * tenth of the server's CPU per signing request over HTTP, measured). Elsewhere (`app.request`),
 * through the web Request.
 *
 * The text is UTF-8, a leading BOM dropped, as the web Request's `text()` reads it.
 */
export async function bodyText(c: Context, limit: number): Promise<string> {
  if (declaredOversize(c, limit)) throw tooLarge(limit);
  const incoming = (c.env as HttpBindings | undefined)?.incoming;
  if (incoming) return new TextDecoder().decode(await readIncoming(incoming, limit));
  // Only without Node (hono's `app.request`, never the real server): the whole body is read
  // before it is measured.
  const text = await c.req.text();
  if (new TextEncoder().encode(text).length > limit) throw tooLarge(limit);
  return text;
}
