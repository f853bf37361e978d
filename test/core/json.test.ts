import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringifyJson, toJsonValue } from '../../src/core/json.ts';

test('stringifyJson writes what JSON.stringify(toJsonValue(x)) writes, and refuses bytes', () => {
  const arb = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.bigInt(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      fc.array(tie('v')),
      fc.dictionary(fc.string(), tie('v')),
      fc.array(tie('v')).map((a) => new Set(a)),
    ),
  })).v;
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
