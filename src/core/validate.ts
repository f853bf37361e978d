import { WardenError } from './errors.ts';

/** Small helpers for parsing hostile JSON bodies into typed values, with stable error codes. */
export type JsonObject = Record<string, unknown>;

export function requireObject(value: unknown, what = 'request body'): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WardenError('INVALID_REQUEST', `${what} must be a JSON object`);
  }
  return value as JsonObject;
}

/** Refuses fields the endpoint does not know: a typo must not silently change meaning. */
export function refuseUnknownFields(body: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new WardenError('INVALID_REQUEST', `unknown field "${key.slice(0, 64)}"`, {
        field: key.slice(0, 64),
      });
    }
  }
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Idempotency keys: 8-128 characters of [A-Za-z0-9_.:-], or absent. */
export function optionalIdempotencyKey(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    throw new WardenError(
      'INVALID_REQUEST',
      'idempotencyKey must be 8-128 characters of A-Z a-z 0-9 _ . : -',
      {
        field: 'idempotencyKey',
      },
    );
  }
  return value;
}
