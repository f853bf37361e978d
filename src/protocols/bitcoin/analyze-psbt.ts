/**
 * The one judgement of a PSBT before anything is signed, pure: for one identity's accounts, which
 * inputs are ours (and so signed), what every input brings (proven, input-amounts.ts), where every
 * output goes (outputs.ts), the fee and the fee rate, and the sighash types of what Warden signs.
 * Anything Warden cannot establish is refused with a stable code (core/errors.ts); what a policy
 * may allow by name (other sighash types, witness_utxo amounts for segwit v0) is refused here
 * unless the options allow it, and the request then says so in its facets.
 */
import { hex } from '@scure/base';
import { OutScript, type Transaction } from '@scure/btc-signer';
import { equalBytes, hash160 } from '@scure/btc-signer/utils.js';
import { WardenError } from '../../core/errors.ts';
import { type BitcoinAccounts, derivationBudget, type KeyPath, ownerOf } from './accounts.ts';
import { type AmountProof, type InputKind, type SpentOutput, spentOutputs } from './input-amounts.ts';
import { type JudgedOutput, judgeOutputs } from './outputs.ts';
import { checkOwnInputs } from './own-inputs.ts';
import { checkSighash, sighashFacet, sighashOf } from './sighash.ts';
import { estimateSize, feeRateMsatPerVb } from './weight.ts';

export interface AnalysisOptions {
  /** Sighash types beyond DEFAULT/ALL that may be signed (`none`, `single_anyonecanpay`, …). */
  allowSighash: readonly string[];
  /** Segwit v0 amounts may come from witness_utxo alone (CVE-2020-14199: unsafe, opt-in). */
  allowWitnessUtxoAmounts: boolean;
  /** Sanity caps, whatever the policy: the fee in sat and the fee rate in msat/vB. */
  maxFeeSat: bigint;
  maxFeeRateMsatPerVb: bigint;
}

/** 0.05 BTC, and 1,000 sat/vB: no fee Warden signs is above both of these. */
export const DEFAULT_ANALYSIS: AnalysisOptions = Object.freeze({
  allowSighash: [],
  allowWitnessUtxoAmounts: false,
  maxFeeSat: 5_000_000n,
  maxFeeRateMsatPerVb: 1_000_000n,
});

export interface AnalyzedInput {
  index: number;
  /** Txid (display order) and output index of the outpoint. */
  txid: string;
  vout: number;
  kind: InputKind;
  amount: bigint;
  proof: AmountProof;
  /** The key of ours it spends, or null when it is someone else's (not signed). */
  key: KeyPath | null;
  sighash: number;
}

export interface PsbtAnalysis {
  version: 0 | 2;
  /** Txid of the unsigned transaction: signatures of segwit inputs do not change it. */
  txid: string;
  inputs: AnalyzedInput[];
  outputs: JudgedOutput[];
  inputTotal: bigint;
  outputTotal: bigint;
  changeTotal: bigint;
  /** What leaves the identity: every output that is not change (data outputs included). */
  externalTotal: bigint;
  fee: bigint;
  weight: number;
  vsize: number;
  feeRateMsatPerVb: bigint;
  /** The inputs Warden signs, in order. */
  toSign: { input: number; key: KeyPath }[];
  /** Facets: the sighash of the signed inputs, and how their amounts were proven. */
  sighash: string;
  amountProof: 'full' | 'witness_utxo';
}

/**
 * The proven type of the output an input spends, for the size estimate. A P2SH input counts as
 * P2SH-P2WPKH only when its redeem script is P2WPKH and hashes to the P2SH program: a redeem
 * script is the PSBT's word otherwise.
 */
function scriptType(spent: SpentOutput, tx: Transaction, key: KeyPath | null): string {
  // A 2-of-3 of ours: its witness script re-derived from the registered wallet (own-inputs.ts).
  if (key?.account === 'bip48') return 'wsh-2of3';
  try {
    const out = OutScript.decode(spent.script);
    const redeem = tx.getInput(spent.index).redeemScript;
    if (out.type === 'sh') {
      const nested =
        redeem && OutScript.decode(redeem).type === 'wpkh' && equalBytes(hash160(redeem), out.hash);
      return nested ? 'sh-wpkh' : 'sh';
    }
    return out.type;
  } catch {
    return 'unknown';
  }
}

export function analyzePsbt(
  tx: Transaction,
  version: 0 | 2,
  accounts: BitcoinAccounts,
  options: AnalysisOptions = DEFAULT_ANALYSIS,
): PsbtAnalysis {
  const raw = Array.from({ length: tx.inputsLength }, (_, i) => tx.getInput(i));
  const budget = derivationBudget();
  const seen = new Set<string>();
  for (const [i, input] of raw.entries()) {
    // The same outpoint twice makes an invalid transaction, and would count its amount twice.
    const outpoint = `${hex.encode(input.txid ?? new Uint8Array())}:${input.index}`;
    if (seen.has(outpoint))
      throw new WardenError('INVALID_REQUEST', `psbt spends the outpoint of input ${i} twice`, {
        field: 'psbt',
        reason: 'duplicate_input',
        input: i,
      });
    seen.add(outpoint);
  }
  // Ownership first, from the scripts the inputs claim: it decides which sighash types matter.
  // The claim is checked against the proven script below, so a lie here only refuses.
  const claimedScripts = raw.map(
    (input) => input.witnessUtxo?.script ?? input.nonWitnessUtxo?.outputs[input.index ?? -1]?.script,
  );
  const claimedKeys = raw.map((input, i) => {
    const script = claimedScripts[i];
    return script ? ownerOf(accounts, script, input, budget) : null;
  });
  const requested = raw.map((input) => input.sighashType);
  const spent = spentOutputs(
    tx,
    (i) => claimedKeys[i] !== null,
    (i) => requested[i] ?? (raw[i]?.witnessUtxo && isTaproot(raw[i]!.witnessUtxo!.script) ? 0x00 : 0x01),
    options.allowWitnessUtxoAmounts,
  );
  const inputs = spent.map((s): AnalyzedInput => {
    const input = raw[s.index]!;
    // Judged again on the proven script: the claimed one may differ only if a check above refused.
    const key = equalScripts(claimedScripts[s.index], s.script)
      ? (claimedKeys[s.index] ?? null)
      : ownerOf(accounts, s.script, input, budget);
    const sighash = sighashOf(input.sighashType, s.kind);
    if (key) checkSighash(s.index, sighash, s.kind, options.allowSighash);
    // SIGHASH_SINGLE without an output of the same index commits to no output at all (BIP-143), or
    // is invalid (BIP-341): never signed, whatever a policy allows.
    if (key && (sighash & 0x1f) === 0x03 && s.index >= tx.outputsLength)
      throw new WardenError(
        'SIGHASH_NOT_ALLOWED',
        `input ${s.index} asks for SIGHASH_SINGLE with no output ${s.index}`,
        {
          input: s.index,
          sighash: 'single',
        },
      );
    return {
      index: s.index,
      txid: hex.encode(input.txid ?? new Uint8Array()),
      vout: input.index ?? 0,
      kind: s.kind,
      amount: s.amount,
      proof: s.proof,
      key,
      sighash,
    };
  });
  // An input of ours that is already finalized has its signature: there is nothing to add.
  const finalized = (i: number) => !!(raw[i]?.finalScriptSig || raw[i]?.finalScriptWitness);
  const toSign = inputs.flatMap((i) =>
    i.key && !finalized(i.index) ? [{ input: i.index, key: i.key }] : [],
  );
  if (toSign.length === 0)
    throw new WardenError(
      'NOTHING_TO_SIGN',
      "no input of this PSBT re-derives from the identity's accounts",
      {},
    );

  checkOwnInputs(tx, toSign, (i) => spent[i]!.script, accounts.multisig);

  if (tx.outputsLength === 0)
    throw new WardenError(
      'OUTPUT_UNSUPPORTED',
      'the transaction has no outputs: it could never be mined',
      {},
    );
  const outputs = judgeOutputs(tx, accounts, budget);
  const inputTotal = inputs.reduce((n, i) => n + i.amount, 0n);
  const outputTotal = outputs.reduce((n, o) => n + o.amount, 0n);
  const changeTotal = outputs.filter((o) => o.role === 'change').reduce((n, o) => n + o.amount, 0n);
  const fee = inputTotal - outputTotal;
  if (fee < 0n)
    throw new WardenError('FEE_INVALID', `the outputs spend ${-fee} sat more than the inputs bring`, {
      inputTotal: inputTotal.toString(),
      outputTotal: outputTotal.toString(),
    });
  const { weight, vsize } = estimateSize(
    tx,
    spent,
    spent.map((s) => scriptType(s, tx, inputs[s.index]!.key)),
    (i) => toSign.some((t) => t.input === i),
  );
  const rate = feeRateMsatPerVb(fee, vsize);
  if (fee > options.maxFeeSat)
    throw new WardenError(
      'FEE_TOO_HIGH',
      `the fee of ${fee} sat is above the cap of ${options.maxFeeSat} sat`,
      {
        fee: fee.toString(),
        cap: options.maxFeeSat.toString(),
      },
    );
  if (rate > options.maxFeeRateMsatPerVb)
    throw new WardenError(
      'FEE_TOO_HIGH',
      `the fee rate of ${rate / 1000n} sat/vB is above the cap of ${options.maxFeeRateMsatPerVb / 1000n} sat/vB`,
      { feeRateMsatPerVb: rate.toString(), cap: options.maxFeeRateMsatPerVb.toString() },
    );
  const signed = inputs.filter((i) => i.key);
  return {
    version,
    txid: tx.id,
    inputs,
    outputs,
    inputTotal,
    outputTotal,
    changeTotal,
    externalTotal: outputTotal - changeTotal,
    fee,
    weight,
    vsize,
    feeRateMsatPerVb: rate,
    toSign,
    sighash: sighashFacet(signed.map((i) => i.sighash)),
    amountProof: inputs.some((i) => i.proof === 'witness_utxo') ? 'witness_utxo' : 'full',
  };
}

function equalScripts(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function isTaproot(script: Uint8Array): boolean {
  try {
    return OutScript.decode(script).type === 'tr';
  } catch {
    return false;
  }
}
