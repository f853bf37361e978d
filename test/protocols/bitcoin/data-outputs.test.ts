import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hex } from '@scure/base';
import { isWardenError } from '../../../src/core/errors.ts';
import { accountsOf } from '../../../src/protocols/bitcoin/accounts.ts';
import { analyzePsbt } from '../../../src/protocols/bitcoin/analyze-psbt.ts';
import { decodePsbt } from '../../../src/protocols/bitcoin/psbt-decode.ts';
import { buildPsbt, identityView, PAYEE } from './fixture.ts';

const ACCOUNTS = accountsOf(identityView());
const opReturn = (n: number) => hex.decode(`6a4c${n.toString(16).padStart(2, '0')}${'ab'.repeat(n)}`);
const analyze = (outputs: { script: Uint8Array; amount: bigint }[]) => {
  const { tx, version } = decodePsbt(buildPsbt([{ purpose: 84, amount: 10_000n }], outputs));
  return analyzePsbt(tx, version, ACCOUNTS);
};
const refusedFor = (reason: string) => (e: unknown) =>
  isWardenError(e, 'OUTPUT_UNSUPPORTED') && e.details.reason === reason && e.details.output === 1;

test('an OP_RETURN output carrying value is refused: it has no destination a list could see', () => {
  assert.throws(
    () =>
      analyze([
        { script: PAYEE, amount: 5_000n },
        { script: opReturn(10), amount: 4_000n },
      ]),
    refusedFor('data_output_value'),
  );
  assert.throws(
    () =>
      analyze([
        { script: PAYEE, amount: 5_000n },
        { script: opReturn(0), amount: 1n },
      ]),
    refusedFor('data_output_value'),
  );
});

test('one data output passes; a second is refused (Bitcoin Core relays one)', () => {
  const one = analyze([
    { script: PAYEE, amount: 9_000n },
    { script: opReturn(80), amount: 0n },
  ]);
  assert.deepEqual(
    one.outputs.map((o) => o.role),
    ['external', 'data'],
  );
  assert.throws(
    () =>
      analyze([
        { script: opReturn(80), amount: 0n },
        { script: opReturn(80), amount: 0n },
        { script: PAYEE, amount: 9_000n },
      ]),
    refusedFor('second_data_output'),
  );
});
