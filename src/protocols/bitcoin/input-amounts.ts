/**
 * What each input spends, proven before anything is signed. The amount an input claims decides the
 * fee, and a signer that trusts a false amount can be made to pay a fee it never saw.
 *
 * - A legacy (non-witness) input is proven only by its full previous transaction: its txid must be
 *   the outpoint's, and the amount is read from that transaction's output.
 * - A segwit v0 input needs its previous transaction too (CVE-2020-14199: a BIP-143 signature
 *   commits only to its own input's amount, so an attacker can get two signatures made over two
 *   different lies and combine them). A policy may opt out by name: the amount is then taken from
 *   witness_utxo and the request carries `amount_proof: witness_utxo`.
 * - Taproot inputs may be proven by witness_utxo alone, but only when EVERY input is taproot and
 *   every input Warden signs uses SIGHASH_DEFAULT or ALL. A BIP-341 signature with those sighash
 *   types commits to the amounts and scripts of all inputs, so a lie in any witness_utxo makes
 *   Warden's own signature invalid on chain: the lie cannot cost anything. With one non-taproot
 *   input in the transaction the rule would depend on who signs which input and with what (that
 *   input's own signature commits to at most its own amount); one rule that holds whoever signs
 *   what is easier to trust, so such a transaction must prove every amount. ANYONECANPAY drops
 *   the commitment to the other inputs, so it also needs the previous transactions.
 */
import { hex } from '@scure/base';
import { OutScript, RawTx, Transaction } from '@scure/btc-signer';
import { equalBytes } from '@scure/btc-signer/utils.js';
import { WardenError } from '../../core/errors.ts';

/** 21 million BTC in sat: no amount can be more. */
export const MAX_MONEY = 2_100_000_000_000_000n;

export type InputKind = 'legacy' | 'segwit_v0' | 'taproot';
export type AmountProof = 'previous_tx' | 'witness_utxo' | 'taproot_commitment';

export interface SpentOutput {
  index: number;
  kind: InputKind;
  /** The script of the output this input spends. */
  script: Uint8Array;
  amount: bigint;
  proof: AmountProof;
}

type Input = ReturnType<Transaction['getInput']>;

function unproven(index: number, reason: string, why: string): never {
  throw new WardenError('INPUT_AMOUNT_UNPROVEN', `input ${index}: ${why}`, { input: index, reason });
}

/** What kind of output a script is, for the amount rules (a P2SH wrapping a witness program is v0). */
export function kindOf(script: Uint8Array, input: Input): InputKind {
  let type: string;
  try {
    type = OutScript.decode(script).type;
  } catch {
    return 'legacy';
  }
  if (type === 'tr') return 'taproot';
  if (type === 'wpkh' || type === 'wsh') return 'segwit_v0';
  if (type === 'sh' && input.redeemScript) {
    try {
      const inner = OutScript.decode(input.redeemScript).type;
      if (inner === 'wpkh' || inner === 'wsh') return 'segwit_v0';
    } catch {
      // a redeem script that is no known script: legacy
    }
  }
  return 'legacy';
}

/** The output a full previous transaction says the input spends, after checking its txid. */
function fromPreviousTx(index: number, input: Input): { script: Uint8Array; amount: bigint } {
  const previous = input.nonWitnessUtxo!;
  let txid: string;
  try {
    const raw = RawTx.encode({ ...previous, segwitFlag: false, witnesses: undefined });
    txid = Transaction.fromRaw(raw, {
      allowUnknownOutputs: true,
      allowUnknownInputs: true,
      disableScriptCheck: true,
    }).id;
  } catch {
    return unproven(index, 'previous_tx_unreadable', 'its previous transaction cannot be read');
  }
  if (!input.txid || txid !== hex.encode(input.txid))
    unproven(index, 'previous_tx_mismatch', 'its previous transaction is not the one the outpoint names');
  const output = input.index === undefined ? undefined : previous.outputs[input.index];
  if (!output) unproven(index, 'previous_tx_mismatch', 'its previous transaction has no such output');
  return { script: output!.script, amount: output!.amount };
}

/** Every input's spent output; `sighashOf(index)` gives the sighash of the inputs Warden signs. */
export function spentOutputs(
  tx: Transaction,
  signs: (index: number) => boolean,
  sighashOf: (index: number) => number,
  allowWitnessUtxoAmounts: boolean,
): SpentOutput[] {
  const inputs = Array.from({ length: tx.inputsLength }, (_, i) => tx.getInput(i));
  const claimed = inputs.map((input, i) => {
    const script = input.witnessUtxo?.script ?? previousScript(i, input);
    return { input, kind: kindOf(script, input) };
  });
  const taprootCommits =
    claimed.every((c) => c.kind === 'taproot') &&
    inputs.every((_, i) => !signs(i) || sighashOf(i) === 0x00 || sighashOf(i) === 0x01);

  return claimed.map(({ input, kind }, i): SpentOutput => {
    let proven: { script: Uint8Array; amount: bigint; proof: AmountProof };
    if (input.nonWitnessUtxo) {
      proven = { ...fromPreviousTx(i, input), proof: 'previous_tx' };
      const w = input.witnessUtxo;
      if (w && (w.amount !== proven.amount || !equalBytes(w.script, proven.script)))
        unproven(i, 'witness_utxo_disagrees', 'its witness_utxo disagrees with its previous transaction');
    } else {
      const w = input.witnessUtxo!;
      if (kind === 'legacy')
        unproven(i, 'legacy_needs_previous_tx', 'a non-witness input needs its full previous transaction');
      if (kind === 'segwit_v0' && !allowWitnessUtxoAmounts)
        unproven(
          i,
          'segwit_v0_needs_previous_tx',
          'a segwit v0 input needs its full previous transaction (its witness_utxo amount could lie)',
        );
      if (kind === 'taproot' && !taprootCommits)
        unproven(
          i,
          'taproot_needs_previous_tx',
          'a taproot input needs its previous transaction unless every input is taproot and signed with SIGHASH_DEFAULT or ALL',
        );
      proven = {
        script: w.script,
        amount: w.amount,
        proof: kind === 'taproot' ? 'taproot_commitment' : 'witness_utxo',
      };
    }
    if (proven.amount < 0n || proven.amount > MAX_MONEY)
      throw new WardenError('INVALID_AMOUNT', `input ${i}: amount out of range`, { input: i });
    return { index: i, kind, ...proven };
  });
}

function previousScript(index: number, input: Input): Uint8Array {
  if (!input.nonWitnessUtxo) return unproven(index, 'no_utxo', 'it names no previous output (no utxo given)');
  return fromPreviousTx(index, input).script;
}
