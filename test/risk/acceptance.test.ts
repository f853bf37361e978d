import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWardenError } from '../../src/core/errors.ts';
import { RISK_CATALOG } from '../../src/protocols/risk-catalog.ts';
import {
  type RiskAcceptanceInput,
  riskAcceptance,
  riskAcceptanceBytes,
  riskAcceptanceJson,
} from '../../src/risk/acceptance.ts';
import { assessRisk } from '../../src/risk/assess.ts';
import { lightningPay } from './intents.ts';

const at = new Date('2025-03-01T12:00:00.000Z');
const input = (over: Partial<RiskAcceptanceInput> = {}): RiskAcceptanceInput => ({
  operator: 'alice',
  reason: 'supplier invoice, confirmed by phone',
  assessment: assessRisk(lightningPay(150_000_000n), { tolerance: 'medium', catalog: RISK_CATALOG }),
  operationId: 'op_01HZX',
  at,
  ...over,
});

test('the record holds who, why, when, which operation and the whole assessment', () => {
  const rec = riskAcceptance(input());
  assert.equal(rec.type, 'warden.risk-acceptance');
  assert.equal(rec.version, 1);
  assert.equal(rec.operator, 'alice');
  assert.equal(rec.reason, 'supplier invoice, confirmed by phone');
  assert.equal(rec.operationId, 'op_01HZX');
  assert.equal(rec.at, '2025-03-01T12:00:00.000Z');
  assert.deepEqual(rec.assessment, input().assessment);
  assert.equal(rec.assessment.withinTolerance, false);
});

test('the bytes to sign are canonical JSON: sorted keys, no whitespace, stable', () => {
  const rec = riskAcceptance(input());
  const json = riskAcceptanceJson(rec);
  assert.deepEqual(JSON.parse(json), rec);
  assert.ok(json.startsWith('{"assessment":{"alternative":{"protocol":"bitcoin"'));
  assert.ok(!/\s"|":\s|,\s"/.test(json));
  assert.deepEqual(riskAcceptanceBytes(rec), new TextEncoder().encode(json));
  // same input, same bytes; key order of the input does not matter
  const { operator, reason, assessment, operationId } = input();
  const reordered = riskAcceptance({ at, operationId, assessment, reason, operator });
  assert.deepEqual(riskAcceptanceBytes(reordered), riskAcceptanceBytes(rec));
  // any change changes the bytes
  for (const over of [{ reason: 'other' }, { operator: 'bob' }, { at: new Date(at.getTime() + 1) }]) {
    assert.notDeepEqual(riskAcceptanceBytes(riskAcceptance(input(over))), riskAcceptanceBytes(rec));
  }
});

test('the record is a snapshot: changing the assessment afterwards changes nothing', () => {
  const assessment = input().assessment;
  const rec = riskAcceptance(input({ assessment }));
  const before = riskAcceptanceJson(rec);
  assessment.score = 1;
  assessment.risks[0]?.adjustments.push('later');
  assessment.recommendations.length = 0;
  assert.equal(riskAcceptanceJson(rec), before);
});

test('validation: operator and operation id non-empty, reason 1..500 characters, valid date', () => {
  const refused = (over: Partial<RiskAcceptanceInput>, field: string) =>
    assert.throws(
      () => riskAcceptance(input(over)),
      (e) => isWardenError(e, 'INVALID_ARGUMENT') && e.details.field === field,
      field,
    );
  refused({ operator: '' }, 'operator');
  refused({ operator: '   ' }, 'operator');
  refused({ operator: 42 as unknown as string }, 'operator');
  refused({ reason: '' }, 'reason');
  refused({ reason: ' \n\t ' }, 'reason');
  refused({ reason: 'x'.repeat(501) }, 'reason');
  refused({ reason: '🔥'.repeat(501) }, 'reason');
  refused({ operationId: '' }, 'operationId');
  refused({ at: new Date(Number.NaN) }, 'at');
  refused({ at: '2025-03-01' as unknown as Date }, 'at');
  assert.equal(riskAcceptance(input({ reason: 'x'.repeat(500) })).reason.length, 500);
  // 500 characters, counted as characters rather than UTF-16 units
  assert.equal([...riskAcceptance(input({ reason: '🔥'.repeat(500) })).reason].length, 500);
  assert.equal(riskAcceptance(input({ reason: '  ok  ', operator: ' alice ' })).reason, 'ok');
});
