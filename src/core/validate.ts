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

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The one rule for idempotency keys, whatever the operation: 1-128 of [A-Za-z0-9_.:-]. */
export const IDEMPOTENCY_KEY_SCHEMA = {
  type: 'string',
  pattern: IDEMPOTENCY_KEY.source,
  description: 'a retry with the same key returns the first result instead of acting twice',
} as const;

/** Idempotency keys: 1-128 characters of [A-Za-z0-9_.:-], or absent (null counts as absent). */
export function optionalIdempotencyKey(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    throw new WardenError(
      'INVALID_REQUEST',
      'idempotencyKey must be 1-128 characters of A-Z a-z 0-9 _ . : -',
      {
        field: 'idempotencyKey',
      },
    );
  }
  return value;
}

/** A caller's text, cut short and stripped of control characters, safe for error details. */
export function shownValue(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}

/** The largest amount any supported asset can carry: 2^256 − 1 (an EVM uint256). */
export const MAX_BASE_UNITS = 2n ** 256n - 1n;

/**
 * A whole number of base units as written: decimal digits, no sign, no leading zero (except "0"),
 * no exponent, point, separator or whitespace; at most 78 digits (2^256 − 1 has 78), which also
 * keeps BigInt() away from huge inputs.
 */
export const BASE_UNITS_PATTERN = /^(0|[1-9][0-9]{0,77})$/;

/**
 * The one reader of base-unit amounts (sat, msat, wei, token units) in request bodies. Only a
 * decimal string is an amount: a JSON number is refused, because JSON.parse has already turned
 * `1e3`, `1000.0` and `1000` into the same double (and rounded anything above 2^53) before any
 * check could see what the caller wrote. Every failure is INVALID_AMOUNT naming the field.
 */
export function parseBaseUnits(value: unknown, field: string, max: bigint = MAX_BASE_UNITS): bigint {
  if (typeof value !== 'string') {
    throw new WardenError(
      'INVALID_AMOUNT',
      `${field} must be a decimal string of base units, e.g. "1000"${typeof value === 'number' ? ', not a JSON number' : ''}`,
      { field, type: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value },
    );
  }
  if (!BASE_UNITS_PATTERN.test(value)) {
    throw new WardenError(
      'INVALID_AMOUNT',
      `${field} must be a whole number of base units in decimal digits`,
      {
        field,
        value: shownValue(value),
      },
    );
  }
  const amount = BigInt(value);
  if (amount > max) throw new WardenError('INVALID_AMOUNT', `${field} is above ${max}`, { field });
  return amount;
}
