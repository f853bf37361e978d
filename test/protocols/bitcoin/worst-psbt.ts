/**
 * The costliest PSBT the caps let through, for the test that it is still signed and for the bench
 * stage that times it (bench/psbt-sign.ts): one taproot input of ours, and outputs filling the caps
 * with taproot claims of our paths, each to a stranger's script, so that every claim is derived
 * (two point multiplications) and fails.
 */
import { Transaction } from '@scure/btc-signer';
import { MAX_DERIVATIONS } from '../../../src/protocols/bitcoin/accounts.ts';
import { MAX_ENTRIES_PER_MAP, MAX_KEYED_ENTRIES } from '../../../src/protocols/bitcoin/psbt-entries.ts';
import { buildPsbt, claimFor, keyAt, PAYEE, STRANGER, scriptAt } from './fixture.ts';

/** The input's own claim is one; the outputs' claims fill both caps. */
export const WORST_CLAIMS = Math.min(MAX_KEYED_ENTRIES, MAX_DERIVATIONS);

export function worstPsbtWithinCaps(): string {
  const tx = Transaction.fromPSBT(
    Buffer.from(buildPsbt([{ purpose: 86, amount: 10_000_000n, previous: false }], []), 'base64'),
  );
  const claims = WORST_CLAIMS - 1;
  for (let o = 0; o * MAX_ENTRIES_PER_MAP < claims; o++) {
    const n = Math.min(MAX_ENTRIES_PER_MAP, claims - o * MAX_ENTRIES_PER_MAP);
    const tapBip32Derivation = Array.from({ length: n }, (_, i) => {
      const at = o * MAX_ENTRIES_PER_MAP + i;
      return claimFor(86, 1, at, keyAt(86, 1, at).publicKey!).tapBip32Derivation![0]!;
    });
    tx.addOutput({ script: scriptAt(86, 0, o, STRANGER), amount: 10_000n, tapBip32Derivation });
  }
  tx.addOutput({ script: PAYEE, amount: 10_000_000n - 10_000n * BigInt(tx.outputsLength) - 50_000n });
  return Buffer.from(tx.toPSBT()).toString('base64');
}

/** An honest PSBT of one taproot input of ours paying one stranger: the stage's point of comparison. */
export function honestPsbt(): string {
  return buildPsbt([{ purpose: 86, amount: 50_000n, previous: false }], [{ script: PAYEE, amount: 49_000n }]);
}
