/**
 * JSON for values that hold bigints (amounts): bigint becomes its decimal string, Dates their ISO
 * form, undefined fields are dropped. Used for stored decisions and API responses.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) throw new TypeError('toJsonValue: bytes are never serialized');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Set) return [...value].map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

export function stringifyJson(value: unknown): string {
  return JSON.stringify(toJsonValue(value));
}
