import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Transaction } from '@scure/btc-signer';
import { DEFAULT_BODY_LIMIT } from '../../../src/api/http/app.ts';
import { isWardenError } from '../../../src/core/errors.ts';
import { signerFor } from '../../../src/keys/capabilities.ts';
import { MAX_PSBT_BYTES } from '../../../src/protocols/bitcoin/psbt-decode.ts';
import { MAX_ENTRIES_PER_MAP, MAX_KEYED_ENTRIES } from '../../../src/protocols/bitcoin/psbt-entries.ts';
import { signPsbtOperation as op } from '../../../src/protocols/bitcoin/sign-psbt/operation.ts';
import { buildPsbt, changeOutput, identityView, PAYEE, STRANGER, seedVault } from './fixture.ts';
import { WORST_CLAIMS, worstPsbtWithinCaps } from './worst-psbt.ts';

const KEYS = identityView();
const ctx = { identity: 'psbt-tester', publicKeys: KEYS, backend: null };
const b64 = (tx: Transaction) => Buffer.from(tx.toPSBT()).toString('base64');

/** `n` BIP-32 derivations of a stranger's keys (another fingerprint), as PSBT_IN_BIP32_DERIVATION. */
function foreignDerivations(n: number, from = 0) {
  return Array.from(
    { length: n },
    (_, i) =>
      [STRANGER.deriveChild(from + i).publicKey!, { fingerprint: 0x01020304, path: [from + i] }] as [
        Uint8Array,
        { fingerprint: number; path: number[] },
      ],
  );
}

function ours(inputs = 1) {
  return Transaction.fromPSBT(
    Buffer.from(
      buildPsbt(
        Array.from({ length: inputs }, (_, i) => ({ purpose: 84 as const, index: i, amount: 100_000n })),
        [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
      ),
      'base64',
    ),
    { allowUnknownOutputs: true },
  );
}

/** Refused by the raw scan (its reason and cap), before the library decodes a single key. */
function refusedEarly(psbt: string, cap: number) {
  assert.throws(
    () => op.parse({ psbt }, new Date()),
    (e: unknown) =>
      isWardenError(e, 'INVALID_REQUEST') && e.details.reason === 'too_many_entries' && e.details.cap === cap,
  );
}

test('a thousand foreign derivations in one input are refused before the PSBT is decoded', () => {
  const tx = ours();
  tx.updateInput(0, { bip32Derivation: foreignDerivations(1000) }, true);
  refusedEarly(b64(tx), MAX_ENTRIES_PER_MAP);
});

test('one derivation past the per-map cap is refused, in an input or an output; the cap itself passes', () => {
  const input = ours();
  // Our own derivation and a stranger's up to the cap.
  input.updateInput(0, { bip32Derivation: foreignDerivations(MAX_ENTRIES_PER_MAP - 1) }, true);
  op.parse({ psbt: b64(input) }, new Date());
  input.updateInput(0, { bip32Derivation: foreignDerivations(1, 500) }, true);
  refusedEarly(b64(input), MAX_ENTRIES_PER_MAP);
  const output = ours();
  output.updateOutput(0, { bip32Derivation: foreignDerivations(MAX_ENTRIES_PER_MAP + 1) }, true);
  refusedEarly(b64(output), MAX_ENTRIES_PER_MAP);
});

test('derivations past the total cap are refused, whatever each map holds', () => {
  const maps = Math.ceil((MAX_KEYED_ENTRIES + 1) / MAX_ENTRIES_PER_MAP);
  const tx = ours(maps);
  for (let i = 0; i < maps; i++)
    tx.updateInput(i, { bip32Derivation: foreignDerivations(MAX_ENTRIES_PER_MAP - 1, i * 100) }, true);
  refusedEarly(b64(tx), MAX_KEYED_ENTRIES);
});

test('the PSBT cap is what fits, as base64, in the HTTP body limit', () => {
  assert.ok(Math.ceil(MAX_PSBT_BYTES / 3) * 4 <= DEFAULT_BODY_LIMIT);
});

test('the worst PSBT within the caps is still parsed, judged, reviewed and signed (bench/psbt-sign.ts times it)', async () => {
  const psbt = worstPsbtWithinCaps();
  const tx = Transaction.fromPSBT(Buffer.from(psbt, 'base64'));
  let claims = tx.getInput(0).tapBip32Derivation?.length ?? 0;
  for (let o = 0; o < tx.outputsLength; o++) claims += tx.getOutput(o).tapBip32Derivation?.length ?? 0;
  assert.equal(claims, WORST_CLAIMS, 'at the caps, not below');
  const parsed = op.parse({ psbt }, new Date());
  const intent = await op.toIntent(parsed, ctx);
  op.review(parsed, intent, KEYS);
  const outcome = op.sign!(parsed, intent, signerFor(seedVault(), 'psbt-tester', 'bitcoin-psbt'));
  assert.equal(outcome.status, 'done', JSON.stringify(outcome));
});
