import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvoicePolls } from '../../../src/api/nwc/invoice-polls.ts';

/** The door ticks every 2 s; the times (s) at which `hash` is looked up from 0 to `untilS`. */
function lookups(polls: InvoicePolls<string>, untilS: number, keep = () => true): number[] {
  const at: number[] = [];
  for (let t = 0; t <= untilS * 1000; t += 2000)
    for (const due of polls.due(t, keep)) if (due.paymentHash === 'h') at.push(t / 1000);
  return at;
}

test('an open invoice is looked up 5 s after it is made, then ever less often up to every 30 s, until a minute past its expiry', () => {
  const polls = new InvoicePolls<string>();
  polls.follow('h', 'conn', 600_000, 0);
  const at = lookups(polls, 700);
  assert.deepEqual(
    at.slice(0, 5),
    [6, 16, 36, 66, 96],
    'doubling from 5 s on a 2 s tick: 5, 10, 20, then 30',
  );
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  assert.ok(
    gaps.every((g) => g <= 30),
    `never more than 30 s apart: ${gaps}`,
  );
  assert.ok(at.at(-1)! <= 660 && at.at(-1)! > 630, 'followed until a minute past its expiry, then let go');
  assert.equal(at.length, 23, 'a ten-minute invoice costs some two dozen lookups, not 120');
  assert.equal(polls.size, 0);
});

test('a settled invoice, or one whose connection is gone, is looked up no more', () => {
  const settled = new InvoicePolls<string>();
  settled.follow('h', 'conn', 600_000, 0);
  assert.deepEqual(lookups(settled, 20), [6, 16]);
  settled.done('h');
  assert.deepEqual(lookups(settled, 700), []);
  const revoked = new InvoicePolls<string>();
  revoked.follow('h', 'conn', 600_000, 0);
  assert.deepEqual(
    lookups(revoked, 700, () => false),
    [],
  );
  assert.equal(revoked.size, 0);
});

test('past the bound the oldest invoice is let go; following one again does not push another out', () => {
  const polls = new InvoicePolls<string>(2);
  polls.follow('a', 'conn', 600_000, 0);
  polls.follow('b', 'conn', 600_000, 0);
  polls.follow('b', 'conn', 600_000, 1000);
  assert.equal(polls.size, 2);
  polls.follow('c', 'conn', 600_000, 0);
  assert.deepEqual(
    polls.due(10_000, () => true).map((d) => d.paymentHash),
    ['b', 'c'],
  );
});
