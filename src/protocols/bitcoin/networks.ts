/**
 * The four Bitcoin networks an identity may live on, as @scure/btc-signer spells their address
 * prefixes. Signet shares testnet's prefixes (BIP-325); regtest has its own bech32 prefix `bcrt`.
 */
import { NETWORK, TEST_NETWORK } from '@scure/btc-signer';
import type { BitcoinNetwork } from '../../keys/derive.ts';

export type { BitcoinNetwork };
export type AddressPrefixes = typeof NETWORK;

const REGTEST: AddressPrefixes = Object.freeze({ ...TEST_NETWORK, bech32: 'bcrt' });

const PREFIXES: Readonly<Record<BitcoinNetwork, AddressPrefixes>> = Object.freeze({
  bitcoin: NETWORK,
  testnet: TEST_NETWORK,
  signet: TEST_NETWORK,
  regtest: REGTEST,
});

export const BITCOIN_NETWORK_NAMES: readonly BitcoinNetwork[] = ['bitcoin', 'testnet', 'signet', 'regtest'];

export function isBitcoinNetwork(value: string): value is BitcoinNetwork {
  return (BITCOIN_NETWORK_NAMES as readonly string[]).includes(value);
}

export function prefixesOf(network: BitcoinNetwork): AddressPrefixes {
  return PREFIXES[network];
}

/** BIP-44 coin type: 0 on mainnet, 1 on every test network (BIP-84/86 accounts use it). */
export function coinTypeOf(network: BitcoinNetwork): 0 | 1 {
  return network === 'bitcoin' ? 0 : 1;
}
