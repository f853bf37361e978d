import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { detailsAad, RECORD_VERSION, recordJson } from '../../src/audit/record.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { type Canonical, canonicalJson } from '../../src/core/canonical.ts';

/** The definition recordJson writes by hand: canonicalJson of the record's object. */
function reference(seq: number, f: Record<string, unknown>, details: string | null | undefined): string {
  const body: Record<string, unknown> = {
    v: RECORD_VERSION,
    seq,
    time: f.time,
    actor: f.actor,
    identity: f.identity,
    action: f.action,
    outcome: f.outcome,
    summary: f.summary,
  };
  if (details !== undefined) body.details = details;
  return canonicalJson(body as Canonical);
}

// Columns as a hostile database may hold them: text of any kind, null, numbers, or absent.
const column = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary' }) },
  fc.constant(null),
  fc.integer(),
  fc.constant(undefined),
);

test('recordJson writes the bytes canonicalJson writes for the record body and its aad', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 })),
      fc.record({
        time: column,
        actor: column,
        identity: column,
        action: column,
        outcome: column,
        summary: column,
      }),
      fc.oneof(
        fc.constant(undefined),
        fc.constant(null),
        fc.string({ unit: fc.constantFrom(...'0123456789abcdef') }),
      ),
      (seq, fields, details) => {
        const f = fields as unknown as Parameters<typeof recordJson>[1];
        assert.equal(recordJson(seq, f, details), reference(seq, fields, details));
        if (details === undefined)
          assert.deepEqual(detailsAad({ ...f, seq }), utf8(reference(seq, fields, undefined)));
      },
    ),
    { numRuns: 5000 },
  );
});
