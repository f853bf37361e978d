/**
 * The size of the transaction once signed, estimated from the unsigned one plus what signing each
 * input adds, and its fee rate. An input whose type is unknown adds nothing to the estimate: the
 * size can only be underestimated, so the fee rate only overestimated, which is the safe side for
 * a cap. Fee rates are integers in msat per vbyte (bigint), never floating point.
 */
import type { Transaction } from '@scure/btc-signer';
import type { SpentOutput } from './input-amounts.ts';

/** Witness bytes of a P2WPKH spend: item count, 72-byte DER signature + sighash, 33-byte key. */
const P2WPKH_WITNESS = 1 + 1 + 72 + 1 + 33;
/** Witness bytes of a taproot key-path spend: item count and a 64-byte signature (65 with a sighash byte). */
const P2TR_KEY_WITNESS = 1 + 1 + 64;
/** scriptSig bytes of a P2PKH spend: push of a 72-byte signature, push of a 33-byte key. */
const P2PKH_SCRIPT_SIG = 1 + 72 + 1 + 33;
/** scriptSig of a P2SH-P2WPKH spend: the push of its 22-byte redeem script. */
const NESTED_SCRIPT_SIG = 1 + 22;

export interface SizeEstimate {
  weight: number;
  vsize: number;
}

export function estimateSize(
  tx: Transaction,
  spent: readonly SpentOutput[],
  scriptTypes: readonly string[],
): SizeEstimate {
  // The unsigned transaction, without witnesses and with empty scriptSigs.
  let base = tx.toBytes(false, false).length;
  let witness = 0;
  let withoutWitness = 0;
  for (const s of spent) {
    const input = tx.getInput(s.index);
    if (input.finalScriptWitness) {
      witness += 1 + input.finalScriptWitness.reduce((n, item) => n + 1 + item.length, 0);
    }
    if (input.finalScriptSig) base += input.finalScriptSig.length;
    if (input.finalScriptSig || input.finalScriptWitness) {
      if (!input.finalScriptWitness) withoutWitness++;
      continue;
    }
    const type = scriptTypes[s.index];
    if (type === 'wpkh') witness += P2WPKH_WITNESS;
    else if (type === 'tr') witness += P2TR_KEY_WITNESS + (input.sighashType ? 1 : 0);
    else if (type === 'sh-wpkh') {
      base += NESTED_SCRIPT_SIG;
      witness += P2WPKH_WITNESS;
    } else {
      if (type === 'pkh') base += P2PKH_SCRIPT_SIG;
      withoutWitness++;
    }
  }
  // A transaction with any witness has the marker and flag, and an empty witness (one byte) for
  // every input without one.
  const weight = base * 4 + (witness > 0 ? 2 + witness + withoutWitness : 0);
  return { weight, vsize: Math.ceil(weight / 4) };
}

/** Fee rate in msat per vbyte, rounded down. */
export function feeRateMsatPerVb(fee: bigint, vsize: number): bigint {
  return vsize > 0 ? (fee * 1000n) / BigInt(vsize) : 0n;
}

/** A fee rate in msat/vB as sat/vB with three decimals ("12.345"), for people. */
export function formatFeeRate(msatPerVb: bigint): string {
  const whole = msatPerVb / 1000n;
  const frac = (msatPerVb % 1000n).toString().padStart(3, '0');
  return `${whole}.${frac}`;
}
