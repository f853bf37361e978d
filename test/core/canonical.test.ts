import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Canonical, CanonicalText, canonicalJson } from '../../src/core/canonical.ts';
import { stringifyJson } from '../../src/core/json.ts';

const canonical: fc.Arbitrary<Canonical> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v')),
    fc.dictionary(fc.string(), fc.option(tie('v'), { nil: undefined })),
  ),
})).v as fc.Arbitrary<Canonical>;

/** The definition, written the slow and obvious way: sorted keys, undefined fields dropped. */
function reference(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(reference);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      // A `__proto__` key (fast-check generates one) stays a key, as in canonicalJson's output.
      if (v !== undefined) Object.defineProperty(out, k, { value: reference(v), enumerable: true });
    }
    return out;
  }
  return value;
}

test('canonicalJson is JSON with sorted keys, bigints as strings, and parses back to the same value', () => {
  fc.assert(
    fc.property(canonical, (value) => {
      const text = canonicalJson(value);
      // Keys that look like array indices are ordered first by JSON.stringify; compare parsed values.
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(reference(value))));
      assert.equal(canonicalJson(JSON.parse(text)), text, 'canonical text is a fixed point');
    }),
    { numRuns: 2000 },
  );
});

test('canonicalJson orders keys by code unit, whatever order they were set in', () => {
  assert.equal(
    canonicalJson({ b: 1, a: [true, null, 2n], B: 'x', '10': 0, '9': 0 }),
    '{"10":0,"9":0,"B":"x","a":[true,null,"2"],"b":1}',
  );
});

test('canonicalJson refuses what has no canonical form', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, [undefined], { a: () => 1 }, Symbol('s')]) {
    assert.throws(() => canonicalJson(bad as unknown as Canonical), TypeError);
  }
});

/** The value with some of its parts (chosen by `pick`) replaced by their CanonicalText. */
function prewritten(value: Canonical, pick: () => boolean): Canonical {
  if (value === null || typeof value !== 'object' || value instanceof CanonicalText) return value;
  if (pick()) return CanonicalText.of(value);
  if (Array.isArray(value)) return value.map((v) => prewritten(v, pick));
  const out: { [key: string]: Canonical | undefined } = {};
  for (const [k, v] of Object.entries(value)) out[k] = v === undefined ? v : prewritten(v, pick);
  return out;
}

test('a part written ahead as CanonicalText gives the same text as the part itself, and stringifyJson writes its value', () => {
  fc.assert(
    fc.property(canonical, fc.infiniteStream(fc.boolean()), (value, coins) => {
      const text = canonicalJson(value);
      const withParts = prewritten(value, () => coins.next().value);
      assert.equal(canonicalJson(withParts), text);
      assert.equal(canonicalJson(CanonicalText.of(value)), text);
      assert.deepEqual(JSON.parse(stringifyJson(withParts)), JSON.parse(JSON.stringify(reference(value))));
    }),
    { numRuns: 1000 },
  );
});
