import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hex } from '@scure/base';
import fc from 'fast-check';
import { isWardenError } from '../../../src/core/errors.ts';
import type { Intent } from '../../../src/core/intent.ts';
import { accountsOf, scriptOfKey } from '../../../src/protocols/bitcoin/accounts.ts';
import { CHANGE_INDEX_LIMIT } from '../../../src/protocols/bitcoin/outputs.ts';
import { decodePsbt } from '../../../src/protocols/bitcoin/psbt-decode.ts';
import { analysisOf } from '../../../src/protocols/bitcoin/sign-psbt/intent.ts';
import { signPsbtOperation as op } from '../../../src/protocols/bitcoin/sign-psbt/operation.ts';
import type { SignPsbtRequest } from '../../../src/protocols/bitcoin/sign-psbt/request.ts';
import { ALL_ERROR_CODES } from '../../../src/protocols/registry.ts';
import { buildPsbt, changeOutput, identityView, PAYEE } from './fixture.ts';

/**
 * Fuzzed PSBT bytes, random and mutated from valid PSBTs of the identity (bytes flipped, cut,
 * inserted, spliced), through the whole path before signing: parse, then the intent (analysis).
 * Nothing but a WardenError with a declared code ever comes out.
 */
const ctx = { identity: 'psbt-tester', publicKeys: identityView(), backend: null };
const SEEDS = [
  buildPsbt([{ purpose: 84, amount: 100_000n }], [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)]),
  buildPsbt(
    [{ purpose: 84, amount: 100_000n }],
    [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
    2,
  ),
  buildPsbt([{ purpose: 86, amount: 50_000n, previous: false }], [{ script: PAYEE, amount: 49_000n }], 2),
].map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));

const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(
      fc.tuple(fc.constantFrom('flip', 'cut', 'insert', 'set'), fc.nat(), fc.integer({ min: 0, max: 255 })),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([seed, edits]) => {
    let bytes = [...seed];
    for (const [kind, at, value] of edits) {
      const i = at % Math.max(1, bytes.length);
      if (kind === 'flip') bytes[i] = (bytes[i] ?? 0) ^ (1 << (value % 8));
      else if (kind === 'cut') bytes = bytes.slice(0, i);
      else if (kind === 'insert') bytes.splice(i, 0, value);
      else bytes[i] = value;
    }
    return new Uint8Array(bytes);
  });
const randomBytes = fc.uint8Array({ maxLength: 400 }).map((b) => {
  const out = new Uint8Array(b.length + 5);
  out.set([0x70, 0x73, 0x62, 0x74, 0xff]); // the magic, so the fuzz gets past it
  out.set(b, 5);
  return out;
});

const ACCOUNTS = accountsOf(ctx.publicKeys);

/**
 * What an accepted PSBT must satisfy, recomputed from the decoded transaction rather than taken
 * from the analysis: the fee is what the inputs' proven outputs bring less what the outputs pay,
 * and every change output's script re-derives from our xpub at its internal-chain path.
 */
function checkAccepted(parsed: SignPsbtRequest, intent: Intent) {
  const { tx } = decodePsbt(parsed.psbt);
  const a = analysisOf(parsed, ctx.publicKeys);
  let brought = 0n;
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    const spent = input.nonWitnessUtxo ? input.nonWitnessUtxo.outputs[input.index!]! : input.witnessUtxo!;
    assert.equal(a.inputs[i]!.amount, spent.amount);
    brought += spent.amount;
  }
  let paid = 0n;
  for (let o = 0; o < tx.outputsLength; o++) paid += tx.getOutput(o).amount!;
  assert.equal(a.fee, brought - paid);
  assert.equal(intent.maxFee, brought - paid);
  for (const o of a.outputs.filter((x) => x.role === 'change')) {
    assert.ok(o.key && o.key.chain === 1 && o.key.index < CHANGE_INDEX_LIMIT && o.key.account !== 'bip48');
    assert.equal(
      hex.encode(scriptOfKey(ACCOUNTS, { ...o.key, account: o.key.account })),
      hex.encode(tx.getOutput(o.index).script!),
    );
  }
}

test('the seeds are accepted, and pass the checks made of every accepted PSBT', async () => {
  for (const bytes of SEEDS) {
    const parsed = op.parse({ psbt: Buffer.from(bytes).toString('base64') }, new Date());
    checkAccepted(parsed, await op.toIntent(parsed, ctx));
  }
});

test('fuzzed PSBT bytes never throw anything but a WardenError with a declared code', async () => {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutated, randomBytes), async (bytes) => {
      let intent: Intent | undefined;
      let parsed: SignPsbtRequest | undefined;
      try {
        parsed = op.parse({ psbt: Buffer.from(bytes).toString('base64') }, new Date());
        intent = await op.toIntent(parsed, ctx);
      } catch (err) {
        assert.ok(isWardenError(err), `not a WardenError: ${String(err)}`);
        assert.ok(ALL_ERROR_CODES.includes(err.code));
        assert.notEqual(err.code, 'INTERNAL', err.message);
        seen.set(err.code, (seen.get(err.code) ?? 0) + 1);
      }
      // Outside the try: a failed check is a failed property, not a refusal.
      if (intent && parsed) {
        checkAccepted(parsed, intent);
        seen.set('accepted', (seen.get('accepted') ?? 0) + 1);
      }
    }),
    { numRuns: 1500 },
  );
  assert.ok((seen.get('INVALID_REQUEST') ?? 0) > 0, JSON.stringify([...seen]));
});
