/**
 * The stored form of a held request (approvals survive restarts): the body as the parser
 * took it, read back by the same parser. One codec for the operations that take a body.
 */
import { utf8 } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';

const STORED_VERSION = 1;

export function storedCodec<P>(
  what: string,
  toBody: (p: P) => Record<string, unknown>,
  parse: (body: unknown) => P,
): { encode(p: P): Uint8Array; decode(bytes: Uint8Array): P } {
  return {
    encode: (p) => utf8(JSON.stringify({ v: STORED_VERSION, ...toBody(p) })),
    decode(bytes) {
      let stored: unknown;
      try {
        stored = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch (err) {
        throw new WardenError('INTERNAL', `a stored ${what} request is unreadable`, {}, { cause: err });
      }
      if (typeof stored !== 'object' || stored === null || (stored as { v?: unknown }).v !== STORED_VERSION)
        throw new WardenError('INTERNAL', `a stored ${what} request has an unknown form`);
      const { v: _version, ...body } = stored as Record<string, unknown>;
      try {
        return parse(body);
      } catch (err) {
        throw new WardenError('INTERNAL', `a stored ${what} request no longer parses`, {}, { cause: err });
      }
    },
  };
}
