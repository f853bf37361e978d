/**
 * Sighash types of the inputs Warden signs. Only SIGHASH_DEFAULT (taproot) and SIGHASH_ALL commit
 * to every input and every output; the others let someone else change the transaction after
 * Warden signed it (NONE: any outputs; SINGLE: all but one; ANYONECANPAY: add inputs). A policy may
 * allow them by name (facet `sighash`); anything else is refused with SIGHASH_NOT_ALLOWED.
 */
import { WardenError } from '../../core/errors.ts';
import type { InputKind } from './input-amounts.ts';

export const SIGHASH_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'default',
  1: 'all',
  2: 'none',
  3: 'single',
  129: 'all_anyonecanpay',
  130: 'none_anyonecanpay',
  131: 'single_anyonecanpay',
});

/** The facet values a rule may name: every type but the safe ones. */
export const OPT_IN_SIGHASH = [
  'none',
  'single',
  'all_anyonecanpay',
  'none_anyonecanpay',
  'single_anyonecanpay',
  'mixed',
];
export const SIGHASH_FACET_VALUES = ['all', ...OPT_IN_SIGHASH];

/** The sighash type an input asks for, the PSBT's default when it names none (BIP-174, BIP-371). */
export function sighashOf(requested: number | undefined, kind: InputKind): number {
  return requested ?? (kind === 'taproot' ? 0x00 : 0x01);
}

/** Refuses a sighash type that is not valid for its input, or not allowed. */
export function checkSighash(
  input: number,
  sighash: number,
  kind: InputKind,
  allowed: readonly string[],
): void {
  const name = SIGHASH_NAMES[sighash];
  if (name === undefined || (sighash === 0x00 && kind !== 'taproot'))
    throw new WardenError(
      'SIGHASH_NOT_ALLOWED',
      `input ${input} asks for an invalid sighash type ${sighash}`,
      {
        input,
        sighash,
      },
    );
  if (name === 'default' || name === 'all') return;
  if (!allowed.includes(name))
    throw new WardenError(
      'SIGHASH_NOT_ALLOWED',
      `input ${input} asks for SIGHASH_${name.toUpperCase()}: only DEFAULT and ALL are signed unless a policy allows it by name`,
      { input, sighash: name },
    );
}

/** The one value of facet `sighash`: `all` when every signed input is DEFAULT/ALL, the one other type, or `mixed`. */
export function sighashFacet(types: readonly number[]): string {
  const names = new Set(types.map((t) => (t === 0x00 ? 'all' : (SIGHASH_NAMES[t] ?? 'mixed'))));
  if (names.size === 0) return 'all';
  if (names.size === 1) return [...names][0]!;
  return names.size === 2 && names.has('all') ? [...names].find((n) => n !== 'all')! : 'mixed';
}
