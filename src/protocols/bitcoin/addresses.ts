/**
 * Addresses, read and written for one network only. Reading is strict, as BIP-173 and BIP-350
 * ask: witness version 0 must be bech32 and versions 1-16 bech32m (a v1 address with a bech32
 * checksum is refused), mixed case is refused, and an address of another network (a `bc1`
 * address for a regtest identity) is refused. All through @scure/btc-signer and @scure/base.
 */
import { Address, OutScript } from '@scure/btc-signer';
import { WardenError } from '../../core/errors.ts';
import { shownValue } from '../../core/validate.ts';
import { type BitcoinNetwork, prefixesOf } from './networks.ts';

/** Longest address accepted: a bech32 string is at most 90 characters (BIP-173). */
const MAX_ADDRESS_LENGTH = 90;

/**
 * The output script an address pays to, on `network`; INVALID_ADDRESS (naming `field`) for
 * anything else. Upper-case bech32 is valid (QR codes) and read as lower case.
 */
export function scriptOfAddress(address: string, network: BitcoinNetwork, field: string): Uint8Array {
  const fail = (why: string): never => {
    throw new WardenError('INVALID_ADDRESS', `${field}: ${why}`, {
      field,
      value: shownValue(address),
      network,
    });
  };
  if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH)
    fail(`not a Bitcoin address (1 to ${MAX_ADDRESS_LENGTH} characters)`);
  if (
    address !== address.toLowerCase() &&
    address !== address.toUpperCase() &&
    /^(bc|tb|bcrt)1/i.test(address)
  )
    fail('mixed-case bech32 address (BIP-173 forbids it)');
  try {
    return OutScript.encode(Address(prefixesOf(network)).decode(address));
  } catch {
    return fail(`not a valid address on ${network} (wrong network, checksum, or bech32 vs bech32m)`);
  }
}

/** The address an output script pays to on `network`, or null when it has none (OP_RETURN, bare scripts). */
export function addressOfScript(script: Uint8Array, network: BitcoinNetwork): string | null {
  try {
    const decoded = OutScript.decode(script);
    if (!['pkh', 'sh', 'wpkh', 'wsh', 'tr'].includes(decoded.type)) return null;
    return Address(prefixesOf(network)).encode(decoded);
  } catch {
    return null;
  }
}
