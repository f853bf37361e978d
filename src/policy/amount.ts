/**
 * Amounts: documents write them as decimal strings or safe integers; the policy keeps bigint base
 * units; people read them with their unit ("1,000 sat", "0.02 ETH (20000000000000000 wei)").
 */

/** Chains whose native coin is ether (18 decimals), with the names used in explanations. */
export const ETH_NATIVE_CHAINS: ReadonlyMap<number, string> = new Map([
  [1, 'Ethereum'],
  [10, 'OP Mainnet'],
  [324, 'zkSync Era'],
  [8453, 'Base'],
  [42161, 'Arbitrum One'],
  [42170, 'Arbitrum Nova'],
  [59144, 'Linea'],
  [534352, 'Scroll'],
  [1337, 'local dev chain'],
  [17000, 'Holesky'],
  [31337, 'Hardhat'],
  [84532, 'Base Sepolia'],
  [421614, 'Arbitrum Sepolia'],
  [560048, 'Hoodi'],
  [11155111, 'Sepolia'],
  [11155420, 'OP Sepolia'],
]);

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

export type AssetUnit =
  | { kind: 'sat' }
  | { kind: 'eth' }
  | { kind: 'wei' }
  | { kind: 'token'; asset: string }
  | { kind: 'signature' }
  | { kind: 'unknown' };

/** The unit of an asset spelled as in Intent.asset (`btc`, `evm:1`, `evm:1:0x…`, `nostr:event`). */
export function unitOfAsset(asset: string | null): AssetUnit {
  if (asset === null) return { kind: 'unknown' };
  const a = asset.toLowerCase();
  if (a === 'btc') return { kind: 'sat' };
  if (a === 'nostr:event') return { kind: 'signature' };
  const evm = /^evm:([0-9]+)(?::(.+))?$/.exec(a);
  if (evm) {
    if (evm[2] !== undefined) return { kind: 'token', asset: a };
    return ETH_NATIVE_CHAINS.has(Number(evm[1])) ? { kind: 'eth' } : { kind: 'wei' };
  }
  return { kind: 'unknown' };
}

export function formatAmountIn(unit: AssetUnit, amount: bigint): string {
  switch (unit.kind) {
    case 'sat':
      return `${groupDigits(amount)} sat`;
    case 'eth':
      return `${formatUnits(amount, 18)} ETH (${amount.toString()} wei)`;
    case 'wei':
      return `${amount.toString()} wei`;
    case 'token':
      return `${amount.toString()} base units of ${unit.asset}`;
    case 'signature':
    case 'unknown':
      return `${groupDigits(amount)} base units`;
  }
}

export function formatAmount(asset: string | null, amount: bigint): string {
  return formatAmountIn(unitOfAsset(asset), amount);
}

/** A gas price: `200 gwei (200000000000 wei)`. */
export function formatGasPrice(wei: bigint): string {
  return `${formatUnits(wei, 9)} gwei (${wei.toString()} wei)`;
}
