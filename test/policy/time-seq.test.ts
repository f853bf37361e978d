import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { arrayPart, earliestReaching } from '../../src/policy/leaving.ts';
import { TimeSeq } from '../../src/policy/time-seq.ts';

/** The model: items sorted by (at, slot), as the sequence keeps them. */
type Item = { at: number; slot: number };
const byKey = (a: Item, b: Item) => a.at - b.at || a.slot - b.slot;

type Op =
  | { kind: 'insert'; at: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'drop'; at: number }
  | { kind: 'probe'; at: number; x: bigint; k: number };

const atArb = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5000 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: atArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.integer({ min: 0, max: 800 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('probe' as const),
      at: atArb,
      x: fc.bigInt({ min: -2n, max: 10n ** 7n }),
      k: fc.nat(),
    }),
  },
);

test('a chunked time sequence answers like a sorted array (counts, prefixes, searches, drops)', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { minLength: 200, maxLength: 1500 }),
      fc.array(fc.bigInt({ min: 0n, max: 2n ** 90n }), { minLength: 1, maxLength: 8 }),
      (ops, palette) => {
        // Weights from the slot: zeros, small and huge values alike.
        const weight = (slot: number) => (slot % 5 === 0 ? 0n : palette[slot % palette.length]!);
        const seq = new TimeSeq(weight);
        let model: Item[] = [];
        let nextSlot = 0;
        const prefix = (k: number) => model.slice(0, k).reduce((s, i) => s + weight(i.slot), 0n);
        for (const op of ops) {
          if (op.kind === 'insert') {
            const item = { at: op.at, slot: nextSlot++ };
            seq.insert(item.at, item.slot);
            model.push(item);
            model.sort(byKey);
          } else if (op.kind === 'remove' && model.length > 0) {
            const [item] = model.splice(op.pick % model.length, 1);
            seq.remove(item!.at, item!.slot);
          } else if (op.kind === 'drop') {
            const k = model.filter((i) => i.at <= op.at).length;
            const dropped: number[] = [];
            seq.dropFront(k, (slot) => dropped.push(slot));
            assert.deepEqual(
              dropped,
              model.slice(0, k).map((i) => i.slot),
            );
            model = model.slice(k);
          } else if (op.kind === 'probe') {
            assert.equal(seq.countAtMost(op.at), model.filter((i) => i.at <= op.at).length);
            assert.equal(seq.countBelow(op.at), model.filter((i) => i.at < op.at).length);
            const k = op.k % (model.length + 1);
            assert.equal(seq.prefix(k), prefix(k));
            let expected = -1;
            let run = 0n;
            for (let i = 0; i < model.length; i++) {
              run += weight(model[i]!.slot);
              if (run >= op.x) {
                expected = i;
                break;
              }
            }
            assert.equal(seq.firstReaching(op.x), expected);
          }
          assert.equal(seq.size, model.length);
          assert.equal(seq.total, prefix(model.length));
        }
        for (const [k, item] of model.entries()) assert.equal(seq.timeAt(k), item.at);
        const seen: number[] = [];
        seq.forEach(0, seq.size, (slot) => seen.push(slot));
        assert.deepEqual(
          seen,
          model.map((i) => i.slot),
        );
      },
    ),
    { numRuns: 40 },
  );
});

test('the earliest time several parts together reach a weight is the sorted walk over all of them', () => {
  const itemsArb = fc.array(
    fc.record({ at: fc.integer({ min: 0, max: 40 }), weight: fc.bigInt({ min: 0n, max: 9n }) }),
    { maxLength: 30 },
  );
  fc.assert(
    fc.property(
      fc.array(itemsArb, { minLength: 1, maxLength: 4 }),
      fc.bigInt({ min: 1n, max: 150n }),
      (parts, x) => {
        const sorted = parts.flat().sort((a, b) => a.at - b.at);
        let expected: number | null = null;
        let run = 0n;
        for (const item of sorted) {
          run += item.weight;
          if (run >= x) {
            expected = item.at;
            break;
          }
        }
        assert.equal(earliestReaching(parts.map(arrayPart), x), expected);
      },
    ),
    { numRuns: 2000 },
  );
});
