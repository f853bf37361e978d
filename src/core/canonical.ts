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
  | Canonical[]
  | { [key: string]: Canonical | undefined };

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
