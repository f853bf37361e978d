import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { randomId, timeOrderedId } from '../../src/core/ids.ts';

const FORM = /^req_[a-z2-7]{26}$/;

test('timeOrderedId has the form of randomId: prefix and 26 base32 characters', () => {
  assert.match(randomId('req'), FORM);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 }), (ms) => {
      assert.match(timeOrderedId('req', ms), FORM);
    }),
  );
});

test('timeOrderedId: ids of one millisecond share their 10 time characters, the other 16 are random', () => {
  const ms = Date.UTC(2026, 11, 3, 19, 0, 0, 123);
  const ids = Array.from({ length: 2000 }, () => timeOrderedId('req', ms));
  assert.equal(new Set(ids).size, ids.length, 'no repeats');
  assert.equal(new Set(ids.map((id) => id.slice(4, 14))).size, 1);
  // 80 random bits: every one of the 16 random positions takes many values.
  for (let i = 14; i < 30; i++) assert.ok(new Set(ids.map((id) => id[i])).size > 16, `position ${i}`);
});

test('timeOrderedId: the time characters count the milliseconds in the order of the alphabet', () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const value = (id: string) => [...id.slice(4, 14)].reduce((v, c) => v * 32 + alphabet.indexOf(c), 0);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 }), (ms) => {
      assert.equal(value(timeOrderedId('req', ms)), ms);
    }),
  );
  // Ids a second apart differ only in their last time characters: neighbours in the index.
  const a = timeOrderedId('req', 1_796_323_859_000);
  const b = timeOrderedId('req', 1_796_323_860_000);
  assert.equal(a.slice(0, 11), b.slice(0, 11));
});
