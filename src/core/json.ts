import { CanonicalText } from './canonical.ts';
import { setOwnField } from './own-field.ts';

/**
 * JSON for values that hold bigints (amounts): bigint becomes its decimal string, Dates their ISO
 * form, undefined fields are dropped. Used for stored decisions and API responses.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  // Already JSON text (see CanonicalText): kept whole, for canonicalJson to copy.
  if (value instanceof CanonicalText) return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) throw new TypeError('toJsonValue: bytes are never serialized');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Set) return [...value].map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      // A `__proto__` key from hostile input stays a key (as JSON.stringify writes it), not a prototype.
      setOwnField(out, k, toJsonValue(v));
    }
    return out;
  }
  return value;
}

/** `JSON.stringify(toJsonValue(value))`, without the copy: this runs for every request. */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer);
}

// A function, not an arrow: `this[key]` is the value before its toJSON (a Buffer has one).
function jsonReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (this[key] instanceof Uint8Array) throw new TypeError('toJsonValue: bytes are never serialized');
  if (value instanceof Set) return [...value];
  return value;
}

/** The canonical JSON of a value that holds bigints, Dates or Sets, written once (see CanonicalText). */
export function canonicalTextOf(value: unknown): CanonicalText {
  return CanonicalText.ofValue(value);
}
