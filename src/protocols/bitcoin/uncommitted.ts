/**
 * What a PSBT can cost the identity when an input Warden signs uses SIGHASH_NONE or SIGHASH_SINGLE
 * (with or without ANYONECANPAY; only a policy naming them lets such a request through). Those
 * signatures do not commit to the outputs (NONE) or to all but one (SINGLE: the output at the
 * input's own index), so whoever holds the signed PSBT can rewrite the uncommitted outputs, change
 * included, and send it anywhere. Nothing uncommitted is credited back: the amount at risk is all
 * that the signed inputs bring, less only change that a signed SINGLE input commits to at its own
 * index (BIP-143 and BIP-341 both hash exactly that output into the signature, so it is paid
 * wherever the input ends up).
 */
import type { AnalyzedInput } from './analyze-psbt.ts';
import type { JudgedOutput } from './outputs.ts';

const NONE = 0x02;
const SINGLE = 0x03;
/** The base type of a sighash byte, without ANYONECANPAY (0x80). */
const baseType = (sighash: number) => sighash & 0x1f;

/**
 * The destination an intent names when its outputs are not all committed. Policy lists hold no
 * whitespace (policy/schema.ts: a destination is `\S{1,256}`), so no allowlist can ever contain
 * this one: a policy with an allowlist denies the request, and a budget counts it as a payee of
 * its own. Never an address on any network.
 */
export const UNCOMMITTED_DESTINATION = 'unknown:sighash (outputs not committed)';

export interface Uncommitted {
  /** Sat the signatures leave anyone free to redirect. */
  atRisk: bigint;
}

/** Null when every signed input commits to every output (DEFAULT, ALL, ALL|ANYONECANPAY). */
export function uncommittedSpend(
  inputs: readonly AnalyzedInput[],
  toSign: readonly { input: number }[],
  outputs: readonly JudgedOutput[],
): Uncommitted | null {
  const signed = toSign.map((t) => inputs.find((i) => i.index === t.input)!);
  if (!signed.some((i) => baseType(i.sighash) === NONE || baseType(i.sighash) === SINGLE)) return null;
  const brought = signed.reduce((n, i) => n + i.amount, 0n);
  const committedChange = signed
    .filter((i) => baseType(i.sighash) === SINGLE)
    .map((i) => outputs[i.index])
    .filter((o): o is JudgedOutput => o?.role === 'change')
    .reduce((n, o) => n + o.amount, 0n);
  const atRisk = brought - committedChange;
  return { atRisk: atRisk > 0n ? atRisk : 0n };
}
