/**
 * Fuzzing the keystore file parser: whatever bytes are on disk, `openContainer` either opens the
 * very keystore that was written or refuses with KEYSTORE_CORRUPT / VAULT_BAD_PASSPHRASE. Nothing
 * else may escape (a TypeError would surface as an internal error, skip the "previous version"
 * hint, and means the parser trusted a shape it never checked).
 *
 * When may a changed file still open? The header (format, version, vaultId, kdf, cipher, verifier)
 * is the AEAD's associated data, re-serialized canonically from the parsed values; the body is
 * authenticated; every secret is listed by digest in the body. So a file opens exactly when it
 * parses to the same JSON values as the original: JSON formatting (whitespace, key order) is free,
 * any change of value is not. The one latitude the format documents is keys it does not define
 * (an extra top-level or kdf field), which the parser ignores: such a file may open, but only with
 * the original content, or be refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { base64 } from '@scure/base';
import fc from 'fast-check';
import { utf8 } from '../../src/core/bytes.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { type ErrorCode, isWardenError } from '../../src/core/errors.ts';
import { openContainer, parseContainer } from '../../src/keys/container.ts';
import { kdfParamsWithinBounds } from '../../src/keys/kdf.ts';
import { Vault } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

// fast-check seeds itself from Math.random by default; give it a CSPRNG seed (printed on failure).
// The report names what was thrown, not only the counterexample.
const fcParams = (numRuns: number) => ({
  seed: randomBytes(4).readInt32LE(0),
  numRuns,
  includeErrorInReport: true,
});

const KIND = 'warden-keystore';
const ALLOWED: readonly ErrorCode[] = ['KEYSTORE_CORRUPT', 'VAULT_BAD_PASSPHRASE'];

// One real keystore (with the audit keys and an identity's keys sealed in it) under the test KDF.
const layout = tempHome('fuzz');
const vault = await Vault.create(
  layout,
  passphrase(),
  fixedClock(new Date('2026-01-01T00:00:00Z')),
  TEST_KDF,
);
vault.setAuditSink(async () => {});
await vault.commitNew('vault.init');
await vault.createIdentity('alice');
const ORIGINAL = new Uint8Array(readFileSync(layout.keystore));
const ORIGINAL_JSON = JSON.parse(new TextDecoder().decode(ORIGINAL)) as Record<string, Json>;
const REFERENCE = (await openContainer(ORIGINAL, passphrase(), KIND)).container;
const SECRET_IDS = Object.keys(ORIGINAL_JSON.secrets as Record<string, Json>);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The fields the format defines (container.ts); anything else in a file is ignored by design. */
const TOP_FIELDS = ['format', 'version', 'vaultId', 'kdf', 'cipher', 'verifier', 'body', 'secrets'];
const KDF_FIELDS = ['alg', 'memoryKiB', 'iterations', 'parallelism', 'salt'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pick(v: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => Object.hasOwn(v, k)).map((k) => [k, v[k]]));
}

/** A file's content as the format defines it: unknown top-level and kdf keys dropped. */
function defined(v: unknown): unknown {
  if (!isObject(v)) return v;
  const top = pick(v, TOP_FIELDS);
  if (isObject(top.kdf)) top.kdf = pick(top.kdf, KDF_FIELDS);
  return top;
}

function parseJson(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch {
    return undefined;
  }
}

type Verdict = 'same' | 'unknown-keys-only' | 'changed';

function verdict(bytes: Uint8Array): Verdict {
  const parsed = parseJson(bytes);
  if (!parsed) return 'changed';
  if (isDeepStrictEqual(parsed.value, ORIGINAL_JSON)) return 'same';
  if (isDeepStrictEqual(defined(parsed.value), defined(ORIGINAL_JSON))) return 'unknown-keys-only';
  return 'changed';
}

function describe(err: unknown): string {
  return isWardenError(err)
    ? `WardenError ${err.code}`
    : `${(err as Error)?.name}: ${(err as Error)?.message}`;
}

/** The property, for one candidate file. `expected` narrows the allowed error codes. */
async function check(bytes: Uint8Array, expected: readonly ErrorCode[] = ALLOWED): Promise<void> {
  const v = verdict(bytes);
  let opened: Awaited<ReturnType<typeof openContainer>>;
  try {
    opened = await openContainer(bytes, passphrase(), KIND);
  } catch (err) {
    if (!isWardenError(err) || !expected.includes(err.code))
      assert.fail(`threw ${describe(err)}, not one of ${expected.join(', ')}`);
    assert.notEqual(v, 'same', `a file differing only in JSON formatting was refused (${err.code})`);
    return;
  }
  assert.notEqual(v, 'changed', 'a file whose content changed was opened');
  // It opened: it must be the keystore that was written, nothing of the change taken in.
  assert.deepEqual(opened.container.header, REFERENCE.header);
  assert.deepEqual(opened.container.meta, REFERENCE.meta);
  assert.deepEqual(opened.container.secrets, REFERENCE.secrets);
}

function serialize(value: unknown, indent: number | string = 2): Uint8Array {
  return utf8(JSON.stringify(value, null, indent));
}

/** Sets an own property, "__proto__" included (plain assignment would change the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Values a hostile file may hold: any JSON, plus objects that shadow what String() or template
 * literals call, and edge numbers.
 */
const hostileArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom<unknown>(
    { toString: 1 },
    { valueOf: 'x', toString: [] },
    JSON.parse('{"__proto__": {"toString": 1}}'),
    {},
    [],
    null,
    '',
    -0,
    1e308,
    -1,
    2 ** 53,
    'argon2id',
    'warden-keystore',
  ),
);

/**
 * In-range KDF parameters that would cost more than a few test-KDF runs are not worth fuzzing
 * (the bounds allow 4 GiB x 64 passes by design); the generators keep clear of them.
 */
function tooCostly(file: unknown): boolean {
  if (!isObject(file) || !isObject(file.kdf)) return false;
  const params = file.kdf as { memoryKiB: number; iterations: number; parallelism: number };
  return kdfParamsWithinBounds(params) && params.memoryKiB * params.iterations > 16 * 1024 * 4;
}

test('the reference keystore opens (otherwise every refusal below would be vacuous)', async () => {
  await check(ORIGINAL, []);
  assert.ok(SECRET_IDS.length >= 4, 'the keystore holds sealed secrets');
  // And re-serializing it any way keeps it opening: formatting is not content.
  await check(serialize(ORIGINAL_JSON, 0), []);
  await check(serialize(ORIGINAL_JSON, '\t'), []);
  const reordered = Object.fromEntries(Object.entries(ORIGINAL_JSON).reverse());
  await check(serialize(reordered), []);
});

test('arbitrary bytes never parse: KEYSTORE_CORRUPT and nothing else (parseContainer)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
      assert.throws(
        () => parseContainer(bytes, KIND),
        (e) => isWardenError(e, 'KEYSTORE_CORRUPT'),
      );
    }),
    fcParams(3000),
  );
});

test('arbitrary bytes and text never open: KEYSTORE_CORRUPT and nothing else (openContainer)', async () => {
  const bytesArb = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    fc.string({ unit: 'binary' }).map(utf8),
    fc.string({ unit: 'grapheme-ascii' }).map((s) => utf8(`{${s}}`)),
  );
  await fc.assert(
    fc.asyncProperty(bytesArb, (bytes) => check(bytes, ['KEYSTORE_CORRUPT'])),
    fcParams(500),
  );
});

test('a file larger than 16 MiB is refused before it is parsed', async () => {
  // The reference keystore padded with whitespace: valid JSON, same values, but over the limit.
  const padded = new Uint8Array(16 * 1024 * 1024 + 1).fill(0x20);
  padded.set(ORIGINAL);
  await assert.rejects(openContainer(padded, passphrase(), KIND), (e) =>
    isWardenError(e, 'KEYSTORE_CORRUPT'),
  );
});

test('arbitrary JSON values never open: KEYSTORE_CORRUPT and nothing else', async () => {
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), (value) => check(serialize(value), ['KEYSTORE_CORRUPT'])),
    fcParams(500),
  );
});

test('keystore-shaped JSON with arbitrary field values: refused unless it is the keystore itself', async () => {
  const o = ORIGINAL_JSON;
  const kdf = o.kdf as Record<string, Json>;
  // Mostly the real value, so that generated files get past the first checks and reach the key
  // derivation, the verifier and the AEAD; otherwise a plausible or a hostile one. (The odds are
  // drawn by hand: fc.oneof's weights are skewed by fast-check's bias towards small cases.)
  const real = <T>(value: T, ...others: fc.Arbitrary<unknown>[]) =>
    fc
      .tuple(fc.integer({ min: 0, max: 99 }), fc.oneof(...others, hostileArb))
      .map(([n, other]) => (n < 90 ? value : other));
  /** A record of all the given fields, now and then without one of them. */
  const fields = (arbs: Record<string, fc.Arbitrary<unknown>>) =>
    fc
      .tuple(fc.record(arbs), fc.integer({ min: 0, max: 99 }), fc.constantFrom(...Object.keys(arbs)))
      .map(([r, n, drop]) => {
        const copy: Record<string, unknown> = { ...r };
        if (n < 5) delete copy[drop];
        return copy;
      });
  const b64 = (min: number, max: number) =>
    fc.uint8Array({ minLength: min, maxLength: max }).map((b) => base64.encode(b));
  const vaultIdArb = fc
    .array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567'), { minLength: 26, maxLength: 26 })
    .map((cs) => `vlt_${cs.join('')}`);
  const fileArb = fields({
    format: real(o.format, fc.constant('warden-backup')),
    version: real(o.version, fc.integer({ min: -2, max: 3 })),
    vaultId: real(o.vaultId, vaultIdArb),
    kdf: real(
      kdf,
      fields({
        alg: real(kdf.alg, fc.constantFrom('argon2i', 'argon2d')),
        memoryKiB: real(kdf.memoryKiB, fc.integer({ min: 8 * 1024 - 2, max: 16 * 1024 })),
        iterations: real(kdf.iterations, fc.integer({ min: -1, max: 3 })),
        parallelism: real(kdf.parallelism, fc.integer({ min: -1, max: 17 })),
        salt: real(kdf.salt, b64(0, 40)),
      }),
    ),
    cipher: real(o.cipher, fc.constant('aes-256-gcm')),
    verifier: real(o.verifier, b64(0, 40)),
    body: real(o.body, b64(0, 200)),
    secrets: real(
      o.secrets,
      fc.dictionary(fc.oneof(fc.constantFrom(...SECRET_IDS), fc.string()), b64(0, 100)),
    ),
  }).filter((f) => !tooCostly(f));
  await fc.assert(
    fc.asyncProperty(fileArb, (file) => check(serialize(file))),
    {
      ...fcParams(500),
      // Found by this property: a version object whose toString is not callable makes the
      // parser's String(version) throw a TypeError instead of KEYSTORE_CORRUPT.
      examples: [[{ ...o, version: { toString: 1 } }]],
    },
  );
});

/** Printable bytes that keep a mutated file close to valid JSON, plus any byte at all. */
const byteArb = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(...utf8(' \t\n\r{}[]":,.-+eE0123456789AZaz+/=_')),
);

test('any single-byte change of the keystore is refused, unless it only changed JSON whitespace', async () => {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: ORIGINAL.length - 1 }), byteArb, async (pos, byte) => {
      const bytes = ORIGINAL.slice();
      bytes[pos] = byte;
      await check(bytes);
    }),
    fcParams(1000),
  );
});

test('any single-byte insertion or deletion is refused, unless it only changed JSON whitespace', async () => {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: ORIGINAL.length }), fc.option(byteArb), async (pos, byte) => {
      const bytes =
        byte === null
          ? new Uint8Array([...ORIGINAL.subarray(0, pos), ...ORIGINAL.subarray(pos + 1)])
          : new Uint8Array([...ORIGINAL.subarray(0, pos), byte, ...ORIGINAL.subarray(pos)]);
      await check(bytes);
    }),
    fcParams(500),
  );
});

test('every byte of the header, changed to a neighbour of its kind, is refused (whitespace aside)', async () => {
  // The header is everything before "body". Letters and digits become the next of their kind, so
  // the file stays well-formed and the change reaches the key derivation and the AEAD.
  const end = new TextDecoder().decode(ORIGINAL).indexOf('"body"');
  assert.ok(end > 200, 'found the header');
  const next = (c: number, from: number, count: number) => from + ((c - from + 1) % count);
  let changed = 0;
  let whitespace = 0;
  for (let pos = 0; pos < end; pos++) {
    const c = ORIGINAL[pos]!;
    const bytes = ORIGINAL.slice();
    if (c >= 0x30 && c <= 0x39) bytes[pos] = next(c, 0x30, 10);
    else if (c >= 0x61 && c <= 0x7a) bytes[pos] = next(c, 0x61, 26);
    else if (c >= 0x41 && c <= 0x5a) bytes[pos] = next(c, 0x41, 26);
    else if (c === 0x20) bytes[pos] = 0x09;
    else if (c === 0x0a) bytes[pos] = 0x0d;
    else bytes[pos] = c === 0x2b ? 0x2f : 0x2b; // '+' <-> '/', anything else becomes '+'
    const v = verdict(bytes);
    if (v === 'same') whitespace++;
    else changed++;
    await check(bytes);
  }
  assert.ok(changed > 150 && whitespace > 20, `${changed} changed, ${whitespace} whitespace`);
});

type Path = readonly [string] | readonly ['kdf' | 'secrets', string];
const PATHS: Path[] = [
  ...TOP_FIELDS.map((k) => [k] as const),
  ...KDF_FIELDS.map((k) => ['kdf', k] as const),
  ...SECRET_IDS.map((id) => ['secrets', id] as const),
];

interface FieldMutation {
  path: Path;
  op: 'delete' | 'replace' | 'tweak' | 'rename' | 'add-sibling' | 'swap-secrets';
  value: unknown;
  name: string;
  bit: number;
  other: string;
  indent: number | string;
}

/** A small change of the same type: one bit of a base64 value, one character, a number +-1. */
function tweak(value: unknown, bit: number): unknown {
  if (typeof value === 'number') return value + (bit % 2 === 0 ? 1 : -1);
  if (typeof value === 'string') {
    try {
      const bytes = base64.decode(value);
      if (bytes.length > 0) {
        bytes[(bit >> 3) % bytes.length]! ^= 1 << (bit & 7);
        return base64.encode(bytes);
      }
    } catch {
      // not base64: change one character instead
    }
    if (value.length === 0) return 'x';
    const i = bit % value.length;
    return value.slice(0, i) + String.fromCharCode(value.charCodeAt(i) ^ 1) + value.slice(i + 1);
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    const copy = { ...value };
    if (keys.length > 0) delete copy[keys[bit % keys.length]!];
    return copy;
  }
  return value;
}

function applyMutation(m: FieldMutation): unknown {
  const file = structuredClone(ORIGINAL_JSON) as Record<string, unknown>;
  const parent = (m.path.length === 1 ? file : file[m.path[0]]) as Record<string, unknown>;
  const key = m.path[m.path.length - 1]!;
  switch (m.op) {
    case 'delete':
      delete parent[key];
      break;
    case 'replace':
      setOwn(parent, key, m.value);
      break;
    case 'tweak':
      setOwn(parent, key, tweak(parent[key], m.bit));
      break;
    case 'rename': {
      const value = parent[key];
      delete parent[key];
      setOwn(parent, m.name, value);
      break;
    }
    case 'add-sibling':
      setOwn(parent, m.name, m.value);
      break;
    case 'swap-secrets': {
      const secrets = file.secrets as Record<string, unknown>;
      const a = m.path[1] ?? SECRET_IDS[0]!;
      [secrets[a], secrets[m.other]] = [secrets[m.other], secrets[a]];
      break;
    }
  }
  return file;
}

test('JSON-level changes of any field are refused, unless they leave every defined value as it was', async () => {
  const mutationArb: fc.Arbitrary<FieldMutation> = fc.record({
    path: fc.constantFrom(...PATHS),
    op: fc.constantFrom('delete', 'replace', 'tweak', 'tweak', 'rename', 'add-sibling', 'swap-secrets'),
    value: hostileArb,
    name: fc.oneof(
      fc.string(),
      fc.constantFrom('__proto__', 'toString', 'extra', ...TOP_FIELDS, ...KDF_FIELDS, ...SECRET_IDS),
    ),
    bit: fc.nat(),
    other: fc.constantFrom(...SECRET_IDS),
    indent: fc.constantFrom<number | string>(2, 0, '\t', 4),
  });
  const cases = mutationArb
    .map((m) => ({ m, file: applyMutation(m) }))
    .filter(({ file }) => !tooCostly(file));
  await fc.assert(
    fc.asyncProperty(cases, ({ m, file }) => check(serialize(file, m.indent))),
    fcParams(800),
  );
});
