/**
 * Sets `key` on `out` as an ordinary own field, whatever its name: a key named "__proto__" from
 * hostile input (YAML, JSON, a policy's facets) stays a plain field, never the object's prototype.
 */
export function setOwnField(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}
