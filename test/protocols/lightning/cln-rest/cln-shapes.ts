/**
 * Checks a JSON value against a request or response schema of Core Lightning (cln.schemas.subset.json
 * beside this file: CLN's doc/schemas, JSON Schema with CLN's own types). The JSON Schema keywords
 * those files use are honoured as JSON Schema means them (`properties`, `required`,
 * `additionalProperties`, `items`, `enum`, `minLength`/`maxLength`, `allOf` with `if`/`then`/`else`,
 * `oneOf`); CLN's types as lightningd writes them: `msat` and the integers as JSON numbers (no
 * more than 2^53, which JSON cannot carry exactly), hashes, secrets and keys as lower-case hex,
 * short channel ids as `BLOCKxTXxOUT`. A request's `msat` may also be a string with its unit
 * (`"1000msat"`), as lightningd reads it.
 */
import { readFileSync } from 'node:fs';

/** CLN's schemas are untyped JSON. */
type Schema = any;

const HEX = /^(?:[0-9a-f]{2})*$/;
const SCID = /^\d+x\d+x\d+$/;
const U_MAX: Record<string, number> = {
  u8: 0xff,
  u16: 0xffff,
  u32: 0xffff_ffff,
  u64: Number.MAX_SAFE_INTEGER,
};

const msatNumber = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

function typeProblem(value: unknown, type: string, request: boolean): string | null {
  const text = (re: RegExp, name: string) =>
    typeof value === 'string' && re.test(value) ? null : `not ${name}`;
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? null : 'not an object';
    case 'array':
      return Array.isArray(value) ? null : 'not an array';
    case 'string':
      return typeof value === 'string' ? null : 'not a string';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'not a boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'not a number';
    case 'integer':
      return Number.isSafeInteger(value) ? null : 'not an integer';
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64':
      return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= U_MAX[type]!
        ? null
        : `not a ${type}`;
    case 'msat':
      if (msatNumber(value)) return null;
      return request && typeof value === 'string' && /^\d+(msat|sat)$/.test(value)
        ? null
        : 'not an msat amount';
    case 'msat_or_any':
      return msatNumber(value) || value === 'any' ? null : 'not an msat amount or "any"';
    case 'hex':
      return text(HEX, 'hex');
    case 'hash':
    case 'secret':
    case 'txid':
      return text(/^[0-9a-f]{64}$/, `a ${type} (32 bytes of hex)`);
    case 'pubkey':
      return text(/^0[23][0-9a-f]{64}$/, 'a compressed public key');
    case 'signature':
      return text(/^[0-9a-f]{16,146}$/, 'a signature (hex)');
    case 'bip340sig':
      return text(/^[0-9a-f]{128}$/, 'a BIP-340 signature');
    case 'short_channel_id':
      return text(SCID, 'a short channel id');
    case 'short_channel_id_dir':
      return text(/^\d+x\d+x\d+\/[01]$/, 'a short channel id with direction');
    default:
      return `the type ${type} is unknown to this checker`;
  }
}

export function shapeProblems(value: unknown, schema: Schema, at = '$', request = false): string[] {
  if (schema === true || (typeof schema === 'object' && Object.keys(schema).length === 0)) return [];
  const problems: string[] = [];
  if (typeof schema.type === 'string') {
    const wrong = typeProblem(value, schema.type, request);
    if (wrong) return [`${at}: ${wrong}`];
  }
  if (schema.enum && !schema.enum.some((e: unknown) => e === value))
    problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${at}: too short`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${at}: too long`);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const [key, v] of Object.entries(record)) {
      const field = schema.properties?.[key];
      if (field !== undefined) problems.push(...shapeProblems(v, field, `${at}.${key}`, request));
      else if (schema.additionalProperties === false) problems.push(`${at}.${key}: not a field here`);
    }
    for (const key of schema.required ?? [])
      if (!(key in record)) problems.push(`${at}.${key}: required, missing`);
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => {
      problems.push(...shapeProblems(v, schema.items, `${at}[${i}]`, request));
    });
  for (const sub of schema.allOf ?? []) {
    if (sub.if !== undefined) {
      const branch = shapeProblems(value, sub.if, at, request).length === 0 ? sub.then : sub.else;
      if (branch !== undefined) problems.push(...shapeProblems(value, branch, at, request));
    } else problems.push(...shapeProblems(value, sub, at, request));
  }
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((s: Schema) => shapeProblems(value, s, at, request).length === 0);
    if (matching.length !== 1) problems.push(`${at}: matches ${matching.length} of oneOf, not 1`);
  }
  return problems;
}

export type ClnMethod =
  | 'getinfo'
  | 'listpeerchannels'
  | 'decode'
  | 'pay'
  | 'listpays'
  | 'invoice'
  | 'listinvoices'
  | 'keysend';

export interface ClnSchemas {
  request(method: ClnMethod): Schema;
  response(method: ClnMethod): Schema;
}

export function loadClnSchemas(): ClnSchemas {
  const doc = JSON.parse(readFileSync(new URL('./cln.schemas.subset.json', import.meta.url), 'utf8'));
  const of = (method: ClnMethod) => {
    const m = doc.methods[method];
    if (!m) throw new Error(`no schema of ${method} in the subset`);
    return m;
  };
  return { request: (m) => of(m).request, response: (m) => of(m).response };
}

/** Problems of a request's params (lightningd reads an msat as a number or `"Nmsat"`). */
export const requestProblems = (schemas: ClnSchemas, method: ClnMethod, params: unknown) =>
  shapeProblems(params, schemas.request(method), '$', true);

export const responseProblems = (schemas: ClnSchemas, method: ClnMethod, result: unknown) =>
  shapeProblems(result, schemas.response(method));
