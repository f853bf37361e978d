/**
 * The size of the transaction once signed, estimated from the unsigned one plus what spending each
 * input adds by its proven script type: the standard sizes of a P2WPKH, P2TR key-path, P2PKH,
 * P2SH-P2WPKH or P2WSH 2-of-3 spend. Witnesses and scriptSigs a PSBT already carries are never counted: an
 * already-finalized input of someone else's can carry any bytes (a 200 KB dummy witness), which
 * our SIGHASH_ALL signature does not commit to, and its owner can re-sign it later with a short
 * one; counting those bytes would make a huge fee look like a small fee rate. An input whose type
 * is unknown adds nothing to the estimate: the size can only be underestimated, so the fee rate
 * only overestimated, which is the safe side for a cap. Fee rates are integers in msat per vbyte
 * (bigint), never floating point.
 */
import type { Transaction } from '@scure/btc-signer';
import type { SpentOutput } from './input-amounts.ts';

/** Witness bytes of a P2WPKH spend: item count, 72-byte DER signature + sighash, 33-byte key. */
const P2WPKH_WITNESS = 1 + 1 + 72 + 1 + 33;
/** Witness bytes of a taproot key-path spend: item count and a 64-byte signature (65 with a sighash byte). */
const P2TR_KEY_WITNESS = 1 + 1 + 64;
/** scriptSig bytes of a P2PKH spend: push of a 72-byte signature, push of a 33-byte key. */
const P2PKH_SCRIPT_SIG = 1 + 72 + 1 + 33;
/**
 * Witness bytes of a P2WSH 2-of-3 spend: item count, the empty item CHECKMULTISIG pops, two
 * 72-byte signatures with their sighash byte, and the pushed 105-byte witness script
 * (OP_2, three 33-byte keys, OP_3, OP_CHECKMULTISIG).
 */
const P2WSH_2OF3_WITNESS = 1 + 1 + 2 * (1 + 72) + 1 + 105;
/** scriptSig of a P2SH-P2WPKH spend: the push of its 22-byte redeem script. */
const NESTED_SCRIPT_SIG = 1 + 22;

export interface SizeEstimate {
  weight: number;
  vsize: number;
}

/**
 * `scriptTypes[i]` is the proven type of input i's spent output ('sh-wpkh' only when its redeem
 * script hashes to the P2SH program, 'wsh-2of3' only for a registered 2-of-3 of the identity's); `signs(i)` says whether Warden signs input i, whose sighash
 * byte (a 65th byte of a taproot signature) is then known. Someone else's taproot input is counted
 * with the shorter 64-byte signature, whatever sighash its PSBT names.
 */
export function estimateSize(
  tx: Transaction,
  spent: readonly SpentOutput[],
  scriptTypes: readonly string[],
  signs: (index: number) => boolean = () => false,
): SizeEstimate {
  // The unsigned transaction, without witnesses and with empty scriptSigs (whatever the PSBT holds).
  let base = tx.toBytes(false, false).length;
  let witness = 0;
  let withoutWitness = 0;
  for (const s of spent) {
    const type = scriptTypes[s.index];
    if (type === 'wpkh') witness += P2WPKH_WITNESS;
    else if (type === 'wsh-2of3') witness += P2WSH_2OF3_WITNESS;
    else if (type === 'tr') {
      const sighash = tx.getInput(s.index).sighashType;
      witness += P2TR_KEY_WITNESS + (signs(s.index) && sighash ? 1 : 0);
    } else if (type === 'sh-wpkh') {
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
