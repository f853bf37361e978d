import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { OutScript, Transaction } from '@scure/btc-signer';
import { equalBytes } from '@scure/btc-signer/utils.js';
import { PSBT_OPTIONS } from '../psbt-decode.ts';

/**
 * Checks, with @noble/curves, that each listed input of a signed PSBT carries a valid signature
 * over its sighash (recomputed from the PSBT: BIP-143 for P2WPKH, BIP-341 for P2TR key path), and,
 * when `txid` is given, that the PSBT is still that transaction, and, when `sighashOf` gives a type
 * for an input, that each of its signatures has exactly that sighash type (a signature of another
 * type commits to less than what was judged). A P2WSH 2-of-3 input is checked for the signature of
 * `multisigKeyOf(input)`, Warden's key there, over BIP-143 with its witness script as script code
 * (the other cosigners' signatures are theirs to get right). False as soon as one check fails;
 * never throws. The PSBT as bytes, or the signer's own signed transaction (its bytes are that
 * transaction written out: verifying it is verifying what is returned).
 */
export function verifySignedInputs(
  psbt: Uint8Array | Transaction,
  inputs: readonly number[],
  txid?: string,
  sighashOf: (input: number) => number | undefined = () => undefined,
  multisigKeyOf: (input: number) => Uint8Array | undefined = () => undefined,
): boolean {
  try {
    const tx = psbt instanceof Transaction ? psbt : Transaction.fromPSBT(psbt, PSBT_OPTIONS);
    if (txid !== undefined && tx.id !== txid) return false;
    const spent = Array.from({ length: tx.inputsLength }, (_, i) => {
      const input = tx.getInput(i);
      const out = input.witnessUtxo ?? input.nonWitnessUtxo?.outputs[input.index ?? -1];
      if (!out) throw new Error('no spent output');
      return { script: out.script, amount: out.amount };
    });
    return inputs.every((i) => verifyInput(tx, i, spent, sighashOf(i), multisigKeyOf(i)));
  } catch {
    return false;
  }
}

function verifyInput(
  tx: Transaction,
  index: number,
  spent: { script: Uint8Array; amount: bigint }[],
  expected: number | undefined,
  multisigKey: Uint8Array | undefined,
): boolean {
  const input = tx.getInput(index);
  const { script, amount } = spent[index]!;
  const type = OutScript.decode(script);
  if (type.type === 'wsh') {
    const witnessScript = input.witnessScript;
    const sig = input.partialSig?.find(([pub]) => multisigKey && equalBytes(pub, multisigKey))?.[1];
    if (!witnessScript || !sig) return false;
    const hashType = sig[sig.length - 1]!;
    if (expected !== undefined && hashType !== expected) return false;
    const digest = tx.preimageWitnessV0(index, witnessScript, hashType, amount);
    return secp256k1.verify(sig.subarray(0, -1), digest, multisigKey!, { prehash: false, format: 'der' });
  }
  if (type.type === 'wpkh') {
    const sigs = input.partialSig ?? [];
    if (sigs.length === 0) return false;
    // BIP-143: the script code of P2WPKH is the P2PKH script of its key hash.
    const scriptCode = OutScript.encode({ type: 'pkh', hash: type.hash });
    return sigs.every(([pubkey, sig]) => {
      const hashType = sig[sig.length - 1]!;
      if (expected !== undefined && hashType !== expected) return false;
      const digest = tx.preimageWitnessV0(index, scriptCode, hashType, amount);
      return secp256k1.verify(sig.subarray(0, -1), digest, pubkey, { prehash: false, format: 'der' });
    });
  }
  if (type.type === 'tr') {
    const sig = input.tapKeySig;
    if (!sig || (sig.length !== 64 && sig.length !== 65)) return false;
    const hashType = sig.length === 65 ? sig[64]! : 0x00;
    // BIP-341: a 65-byte signature never ends in 0x00 (SIGHASH_DEFAULT is the 64-byte form).
    if (sig.length === 65 && hashType === 0x00) return false;
    if (expected !== undefined && hashType !== expected) return false;
    const digest = tx.preimageWitnessV1(
      index,
      spent.map((s) => s.script),
      hashType,
      spent.map((s) => s.amount),
    );
    // The output key is the script's 32-byte witness program.
    return schnorr.verify(sig.subarray(0, 64), digest, type.pubkey);
  }
  return false;
}
