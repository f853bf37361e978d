import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { holdProgress } from '../../src/policy/hold.ts';

const heldAt = new Date('2026-01-01T12:00:00.000Z');
const at = (minutes: number) => new Date(heldAt.getTime() + minutes * 60_000);
const req = (approvals: number, delaySeconds: number) => ({ approvals, delaySeconds, reasons: ['test'] });

describe('holdProgress', () => {
  test('one operator counts once, however often they approve', () => {
    const p = holdProgress(
      {
        requirement: req(2, 0),
        heldAt,
        approvals: [
          { operator: 'alice', at: at(1) },
          { operator: 'alice', at: at(2) },
          { operator: 'alice', at: at(3) },
        ],
        vetoes: [],
      },
      at(10),
    );
    assert.deepEqual(p, {
      state: 'waiting_approvals',
      distinctApprovals: 1,
      remainingApprovals: 1,
      releaseAt: null,
    });
    const two = holdProgress(
      {
        requirement: req(2, 0),
        heldAt,
        approvals: [
          { operator: 'alice', at: at(1) },
          { operator: 'alice', at: at(2) },
          { operator: 'bob', at: at(5) },
        ],
        vetoes: [],
      },
      at(10),
    );
    assert.deepEqual(two, { state: 'ready', distinctApprovals: 2, remainingApprovals: 0, releaseAt: at(5) });
  });

  test('any veto vetoes, even with every approval in', () => {
    const p = holdProgress(
      {
        requirement: req(1, 0),
        heldAt,
        approvals: [{ operator: 'alice', at: at(1) }],
        vetoes: [{ operator: 'bob', at: at(2) }],
      },
      at(10),
    );
    assert.equal(p.state, 'vetoed');
    assert.equal(p.releaseAt, null);
    assert.equal(p.distinctApprovals, 1);
  });

  test('the delay runs from heldAt: waiting_delay until heldAt + delay, then ready', () => {
    const input = {
      requirement: req(1, 3600),
      heldAt,
      approvals: [{ operator: 'alice', at: at(5) }],
      vetoes: [],
    };
    const waiting = holdProgress(input, at(59));
    assert.equal(waiting.state, 'waiting_delay');
    assert.deepEqual(waiting.releaseAt, at(60));
    assert.equal(holdProgress(input, new Date(at(60).getTime() - 1)).state, 'waiting_delay');
    assert.equal(holdProgress(input, at(60)).state, 'ready');
    // An approval after the delay has run out: released when it arrives.
    const late = { ...input, approvals: [{ operator: 'alice', at: at(90) }] };
    assert.equal(holdProgress(late, at(80)).state, 'waiting_approvals');
    assert.deepEqual(holdProgress(late, at(95)), {
      state: 'ready',
      distinctApprovals: 1,
      remainingApprovals: 0,
      releaseAt: at(90),
    });
  });

  test('a delay-only hold is released by time alone, unless vetoed', () => {
    const input = { requirement: req(0, 86_400), heldAt, approvals: [], vetoes: [] };
    assert.deepEqual(holdProgress(input, at(60)), {
      state: 'waiting_delay',
      distinctApprovals: 0,
      remainingApprovals: 0,
      releaseAt: at(24 * 60),
    });
    assert.equal(holdProgress(input, at(24 * 60)).state, 'ready');
    assert.equal(
      holdProgress({ ...input, vetoes: [{ operator: 'x', at: at(1) }] }, at(24 * 60)).state,
      'vetoed',
    );
  });

  test('approvals from before the hold or from the future do not count', () => {
    const input = {
      requirement: req(1, 0),
      heldAt,
      approvals: [
        { operator: 'alice', at: at(-1) },
        { operator: 'bob', at: at(30) },
      ],
      vetoes: [],
    };
    assert.equal(holdProgress(input, at(10)).state, 'waiting_approvals');
    assert.equal(holdProgress(input, at(30)).state, 'ready');
  });
});
