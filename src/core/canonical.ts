/**
 * Canonical JSON: object keys sorted, no whitespace, bigint written as a decimal string.
 * Used wherever bytes are hashed or authenticated, so the same value always gives the same bytes.
 */
export type Canonical =
  | string
  | number
  | boolean
  | null
  | bigint
  | CanonicalText
  | Canonical[]
  | { [key: string]: Canonical | undefined };

/**
 * A value's canonical JSON, written once: `canonicalJson` copies its text where the value appears
 * instead of walking the value again. The request path writes an intent and a decision into their
 * row and then into the audit record that holds them; this is how that costs one walk, not two.
 * Only `CanonicalText.of` makes one, so its text is always canonical JSON.
 */
export class CanonicalText {
  private constructor(readonly text: string) {}

  static of(value: Canonical): CanonicalText {
    return new CanonicalText(canonicalJson(value));
  }

  /** The text of a value that may hold Dates and Sets too (see `canonicalJsonOfValue`). */
  static ofValue(value: unknown): CanonicalText {
    return new CanonicalText(canonicalJsonOfValue(value));
  }

  /** Anything else that writes JSON (`JSON.stringify`) writes the value, not this wrapper. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

export function canonicalJson(value: Canonical): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `"${value.toString()}"`;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      if (value instanceof CanonicalText) return value.text;
      // Built by appending: this runs for every audit record, so no intermediate arrays.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]!);
        return `${out}]`;
      }
      return canonicalObject(value);
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
  }
}

function canonicalObject(value: { [key: string]: Canonical | undefined }): string {
  const keys = Object.keys(value).sort();
  let out = '{';
  for (const key of keys) {
    const v = value[key];
    if (v === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/**
 * `canonicalJson(toJsonValue(value))` (core/json.ts) in one walk, without the copy: Dates as their
 * ISO text, Sets as arrays, bytes refused. The request path writes a decision, an intent and a
 * result this way for every request; test/core/json.test.ts holds it to the two steps.
 */
export function canonicalJsonOfValue(value: unknown): string {
  if (typeof value !== 'object' || value === null || value instanceof CanonicalText)
    return canonicalJson(value as Canonical);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Uint8Array) throw new TypeError('toJsonValue: bytes are never serialized');
  if (Array.isArray(value) || value instanceof Set) {
    let out = '[';
    let first = true;
    for (const item of value) {
      out += (first ? '' : ',') + canonicalJsonOfValue(item);
      first = false;
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const v = object[key];
    if (v === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJsonOfValue(v)}`;
  }
  return `${out}}`;
}
