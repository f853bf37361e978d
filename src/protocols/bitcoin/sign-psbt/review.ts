import { isWardenError } from '../../../core/errors.ts';
import type { IdentityView } from '../../../keys/view.ts';
import type { KeyPath } from '../accounts.ts';
import type { PsbtAnalysis } from '../analyze-psbt.ts';
import type { MultisigWallet } from '../multisig/wallet.ts';
import { SIGHASH_NAMES } from '../sighash.ts';
import { uncommittedSpend } from '../uncommitted.ts';
import { formatFeeRate } from '../weight.ts';
import { analysisOf } from './intent.ts';
import type { SignPsbtRequest } from './request.ts';

/**
 * What an approver reads before Warden signs a PSBT: every input (whose it is, what it brings and
 * how that amount was proven), every output (change back to the identity, external, or data),
 * the fee and fee rate, and one line in words. Amounts are decimal strings of sat.
 */
export type SignPsbtReviewPayload = {
  standard: string;
  network: string;
  txid: string;
  inputs: {
    index: number;
    outpoint: string;
    amount: string;
    kind: string;
    proof: string;
    /** The identity's key that signs it, or null: someone else's input, not signed. */
    signedBy: string | null;
    sighash: string;
  }[];
  outputs: {
    index: number;
    role: string;
    address: string | null;
    amount: string;
    script: string;
    /** Where a change output's key is (m/purpose'/coin'/0'/1/index), so an approver sees the index. */
    changePath: string | null;
  }[];
  /** The payees the agent declared (null: none declared). */
  payTo: string[] | null;
  spent: string;
  change: string;
  fee: string;
  vsize: number;
  feeRateSatPerVb: string;
  warnings: string[];
};

const pathOf = (k: KeyPath) =>
  k.account === 'bip48'
    ? `48'/…/0'/2'/${k.chain}/${k.index} (2-of-3 wallet ${k.wallet})`
    : `${k.account === 'bip84' ? 84 : 86}'/…/0'/${k.chain}/${k.index}`;
const sat = (n: bigint) => `${n.toLocaleString('en-US')} sat`;

function payloadOf(p: SignPsbtRequest, a: PsbtAnalysis, network: string): SignPsbtReviewPayload {
  const warnings: string[] = [];
  if (a.sighash !== 'all')
    warnings.push(
      `an input is signed with SIGHASH_${a.sighash.toUpperCase()}: others can change the transaction afterwards`,
    );
  const uncommitted = uncommittedSpend(a.inputs, a.toSign, a.outputs);
  if (uncommitted)
    warnings.push(
      `outputs not committed by the signatures can be rewritten: ${uncommitted.atRisk} sat counted as spent, change not credited`,
    );
  if (a.amountProof === 'witness_utxo')
    warnings.push('some input amounts are taken from witness_utxo without their previous transaction');
  if (p.payTo === null) warnings.push('the agent did not declare its payees (payTo)');
  return {
    standard: a.version === 2 ? 'BIP-370 PSBT version 2' : 'BIP-174 PSBT version 0',
    network,
    txid: a.txid,
    inputs: a.inputs.map((i) => ({
      index: i.index,
      outpoint: `${i.txid}:${i.vout}`,
      amount: i.amount.toString(),
      kind: i.kind,
      proof: i.proof,
      signedBy: i.key ? pathOf(i.key) : null,
      sighash: SIGHASH_NAMES[i.sighash] ?? String(i.sighash),
    })),
    outputs: a.outputs.map((o) => ({
      index: o.index,
      role: o.role,
      address: o.address,
      amount: o.amount.toString(),
      script: o.script,
      changePath: o.key ? pathOf(o.key) : null,
    })),
    payTo: p.payTo,
    spent: a.externalTotal.toString(),
    change: a.changeTotal.toString(),
    fee: a.fee.toString(),
    vsize: a.vsize,
    feeRateSatPerVb: formatFeeRate(a.feeRateMsatPerVb),
    warnings,
  };
}

function summaryOf(a: PsbtAnalysis): string {
  const external = a.outputs.filter((o) => o.role === 'external');
  const to =
    external.length === 0
      ? 'nobody else'
      : external.map((o) => `${sat(o.amount)} to ${o.address}`).join(', ');
  const data = a.outputs.some((o) => o.role === 'data') ? ', with an OP_RETURN data output' : '';
  return (
    `sign ${a.toSign.length} of ${a.inputs.length} inputs of a transaction paying ${to}${data}; ` +
    `fee ${sat(a.fee)} (${formatFeeRate(a.feeRateMsatPerVb)} sat/vB), ${sat(a.changeTotal)} back as change`
  );
}

export function signPsbtReview(
  p: SignPsbtRequest,
  keys: IdentityView,
  wallets: readonly MultisigWallet[] = [],
) {
  try {
    const analysis = analysisOf(p, keys, wallets);
    return { payload: payloadOf(p, analysis, keys.network), summary: summaryOf(analysis) };
  } catch (err) {
    // The identity's keys changed since the request was judged: nothing of ours to show.
    const code = isWardenError(err) ? err.code : 'INTERNAL';
    return {
      payload: { psbt: p.psbt, refused: code },
      summary: `a PSBT that can no longer be signed (${code})`,
    };
  }
}
