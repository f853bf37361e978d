/**
 * Amounts: documents write them as decimal strings or safe integers; the policy keeps bigint base
 * units; people read them with their unit, which the protocol modules declare (vocabulary.ts)
 * from the helpers here. No floating point anywhere.
 */
import type { AssetUnit } from './vocabulary.ts';

/** `1234567` → `1,234,567`. */
export function groupDigits(n: bigint): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString();
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return negative ? `-${out}` : out;
}

/** Exact decimal rendering of `value / 10^decimals`, trailing zeros trimmed: (2n * 10n ** 16n, 18) → `0.02`. */
export function formatUnits(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const fraction = (abs % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole.toString()}${fraction.length > 0 ? `.${fraction}` : ''}`;
}

/** The unit of an asset no module claims, and of a rule over assets in different units. */
export const BASE_UNITS: AssetUnit = Object.freeze({
  id: 'base units',
  format: (amount: bigint) => `${groupDigits(amount)} base units`,
});

/** A unit shown as a whole number with thousands separators and a name: `1,000 <name>`. */
export function countedUnit(name: string): AssetUnit {
  return Object.freeze({ id: name, format: (amount: bigint) => `${groupDigits(amount)} ${name}` });
}
