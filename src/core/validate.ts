import { WardenError } from './errors.ts';

/**
 * The one kit for parsing hostile request bodies into typed values, with stable error codes:
 * every protocol's parser and every front door reads its input with these, so a rule (what an
 * object is, what a key or an idempotency key may be) is the same everywhere.
 */
export type JsonObject = Record<string, unknown>;

/** How a hostile value is named in error details: null, array, or its typeof. */
export function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/**
 * A body as a plain JSON object whose own keys are all in `fields` (a typo must not silently
 * change meaning; a getter, a symbol or a prototype other than Object's is refused), read through
 * a function that sees own fields only (`__proto__` from JSON.parse is an unknown field, never a
 * prototype). INVALID_REQUEST otherwise, naming the field.
 */
export function readBody<F extends string>(
  raw: unknown,
  fields: readonly F[],
  what = 'the request body',
): (field: F) => unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new WardenError('INVALID_REQUEST', `${what} must be a JSON object`, { type: jsonType(raw) });
  const prototype = Object.getPrototypeOf(raw);
  if (prototype !== Object.prototype && prototype !== null)
    throw new WardenError('INVALID_REQUEST', `${what} must be a plain JSON object`, {});
  const record = raw as JsonObject;
  for (const key of Reflect.ownKeys(record)) {
    const descriptor = Object.getOwnPropertyDescriptor(record, key);
    if (
      typeof key !== 'string' ||
      !(fields as readonly string[]).includes(key) ||
      !descriptor ||
      !('value' in descriptor)
    ) {
      const field = shownValue(String(key));
      throw new WardenError('INVALID_REQUEST', `unknown field ${JSON.stringify(field)}`, { field });
    }
  }
  return (field) => (Object.hasOwn(record, field) ? record[field] : undefined);
}

/** The fields a body must have, in order: the first one missing is named. */
export function requireFields<F extends string>(get: (field: F) => unknown, fields: readonly F[]): void {
  for (const field of fields) {
    if (get(field) === undefined)
      throw new WardenError('INVALID_REQUEST', `missing field ${field}`, { field });
  }
}

/** A positive safe integer given as a JSON number (a chain id, a count); absent/null when optional. */
export function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new WardenError('INVALID_REQUEST', `${field} must be a positive integer (a JSON number)`, {
      field,
      type: jsonType(value),
    });
  }
  return value;
}

export function optionalPositiveInteger(value: unknown, field: string): number | null {
  return value === undefined || value === null ? null : positiveInteger(value, field);
}

/**
 * Runs a parser so that nothing but a WardenError leaves it: anything else can only come from
 * exotic objects (proxies) that JSON.parse never makes, and is refused as unreadable.
 */
export function parseHostile<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof WardenError) throw err;
    throw new WardenError('INVALID_REQUEST', 'the request body could not be read', {}, { cause: err });
  }
}

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The one rule for idempotency keys, whatever the operation: 1-128 of [A-Za-z0-9_.:-]. */
export const IDEMPOTENCY_KEY_SCHEMA = {
  // null counts as absent, as the parser reads it.
  type: ['string', 'null'],
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
