import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Canonical, CanonicalText, canonicalJson } from '../../src/core/canonical.ts';
import { canonicalTextOf, stringifyJson, toJsonValue } from '../../src/core/json.ts';

/**
 * What toJsonValue is handed: scalars (undefined and bigint too), dates from `date`, the `extra`
 * leaves, and arrays, objects and sets of all these.
 */
function valuesWith(date: fc.Arbitrary<Date>, ...extra: fc.Arbitrary<unknown>[]) {
  return fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.bigInt(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      date,
      ...extra,
      fc.array(tie('v')),
      fc.dictionary(fc.string(), tie('v')),
      fc.array(tie('v')).map((a) => new Set(a)),
    ),
  })).v;
}

test('stringifyJson writes what JSON.stringify(toJsonValue(x)) writes, and refuses bytes', () => {
  const arb = valuesWith(fc.date({ noInvalidDate: true }));
  fc.assert(
    fc.property(arb, (x) => {
      assert.equal(stringifyJson(x), JSON.stringify(toJsonValue(x)));
    }),
    { numRuns: 3000 },
  );
  const hostile = JSON.parse('{"__proto__": {"admin": true}, "a": 1}');
  assert.equal(stringifyJson(hostile), '{"__proto__":{"admin":true},"a":1}');
  assert.equal((toJsonValue(hostile) as { admin?: boolean }).admin, undefined, 'a key, not a prototype');
  assert.throws(() => stringifyJson({ a: Buffer.from('x') }));
  assert.throws(() => stringifyJson({ a: new Uint8Array(2) }));
});

/** What the two steps give: the text, or the class of the error they throw. */
function twoSteps(x: unknown): string {
  try {
    return canonicalJson(toJsonValue(x) as Canonical);
  } catch (err) {
    return `throws ${(err as Error).constructor.name}`;
  }
}

test('canonicalTextOf writes in one walk what canonicalJson(toJsonValue(x)) writes, and refuses what it refuses', () => {
  const arb = valuesWith(
    fc.date(),
    fc.constant(new Uint8Array(1)),
    fc.dictionary(fc.string(), fc.integer()).map((d) => CanonicalText.of(d)),
  );
  fc.assert(
    fc.property(arb, (x) => {
      let one: string;
      try {
        one = canonicalTextOf(x).text;
      } catch (err) {
        one = `throws ${(err as Error).constructor.name}`;
      }
      assert.equal(one, twoSteps(x));
    }),
    { numRuns: 5000 },
  );
  const hostile = JSON.parse('{"b": [1, {"__proto__": {"admin": true}}], "a": 1}');
  assert.equal(canonicalTextOf(hostile).text, '{"a":1,"b":[1,{"__proto__":{"admin":true}}]}');
  assert.throws(() => canonicalTextOf([1, undefined]), TypeError);
  assert.throws(() => canonicalTextOf({ at: new Date(Number.NaN) }), RangeError);
});
