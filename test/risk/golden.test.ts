import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Intent } from '../../src/core/intent.ts';
import { RISK_CATALOG } from '../../src/protocols/risk-catalog.ts';
import { assessRisk, type MonitorSignals } from '../../src/risk/assess.ts';
import {
  EXTRA_SIGNAL_SAMPLES,
  EXTRA_SIGNAL_SETS,
  SAMPLES,
  type Sample,
  SIGNAL_SETS,
  type SignalSet,
  sampleKey,
} from './fixtures/samples.ts';
import { bitcoinSend, evmCall, evmCallUnknownFunction, evmSend, lightningPay, nostrSign } from './intents.ts';

/**
 * Golden assessments: every sample of fixtures/samples.ts under its signal sets, at the three
 * tolerances, as recorded with the catalog before its rows moved to the protocol modules
 * (fixtures/golden-assessments.json: top score, number of risks, and the first 16 hex digits of the
 * SHA-256 of the three assessments' JSON). Any change to a row, a condition, a bump, a reason, the
 * order of the risks or the alternative shows here.
 */
const GOLDEN: Record<string, string> = JSON.parse(
  readFileSync(new URL('./fixtures/golden-assessments.json', import.meta.url), 'utf8'),
);

function build(s: Sample): Intent {
  switch (s.make) {
    case 'bitcoinSend':
      return bitcoinSend(s.amount, s.noDestination ? { destinations: [] } : {});
    case 'lightningPay':
      return lightningPay(s.amount);
    case 'nostrSign':
      return nostrSign(s.kind);
    case 'evmSend':
      return evmSend(s.amount, s.asset === undefined ? {} : { asset: s.asset });
    case 'evmCall':
      return evmCall(s.selector, s.amount, {
        ...(s.asset === undefined ? {} : { asset: s.asset }),
        ...(s.noDestination ? { destinations: [] } : {}),
      });
    case 'evmCallUnknownFunction':
      return evmCallUnknownFunction(s.amount);
  }
}

function record(s: Sample, signals: SignalSet): string {
  const intent = build(s);
  const all = (['low', 'medium', 'high'] as const).map((tolerance) =>
    assessRisk(intent, { tolerance, catalog: RISK_CATALOG, signals: signals as MonitorSignals | undefined }),
  );
  const medium = all[1]!;
  const hash = createHash('sha256').update(JSON.stringify(all)).digest('hex').slice(0, 16);
  return `${medium.score} ${medium.risks.length} ${hash}`;
}

test('every sample assesses exactly as recorded before the catalog moved to the modules', () => {
  const got: Record<string, string> = {};
  for (const s of SAMPLES) for (const sig of SIGNAL_SETS) got[sampleKey(s, sig)] = record(s, sig);
  for (const s of EXTRA_SIGNAL_SAMPLES)
    for (const sig of EXTRA_SIGNAL_SETS) got[sampleKey(s, sig)] = record(s, sig);
  assert.equal(Object.keys(GOLDEN).length, 312);
  assert.deepEqual(got, GOLDEN);
});
