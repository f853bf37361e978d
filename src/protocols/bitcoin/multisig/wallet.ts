/**
 * A registered 2-of-3 wallet: wsh(sortedmulti(2, cosigner 1, Warden's key, cosigner 2)), each key
 * an account xpub with its origin (fingerprint and path), public data only. Its scripts are
 * derived here the BIP-383 way (every key at the same chain and index, the three public keys
 * sorted), and its descriptors written with their BIP-380 checksum.
 */
import { OutScript, p2ms, p2wsh } from '@scure/btc-signer';
import { compareBytes } from '@scure/btc-signer/utils.js';
import { withChecksum } from '../../../core/descriptor.ts';
import { WardenError } from '../../../core/errors.ts';
import type { Chain } from '../accounts.ts';
import { chainsOf, VERSIONS } from '../chains.ts';
import type { BitcoinNetwork } from '../networks.ts';
import { type Cosigner, pathText } from './cosigner.ts';

export const THRESHOLD = 2;

export interface WalletKey {
  fingerprint: string;
  path: number[];
  xpub: string;
}

export interface MultisigWallet {
  /** The wallet's name, unique per identity. */
  name: string;
  network: BitcoinNetwork;
  /** The three keys in descriptor order: cosigner 1, Warden's, cosigner 2. */
  keys: readonly [WalletKey, WalletKey, WalletKey];
  /** Which of `keys` is Warden's (1 as registered). */
  warden: number;
}

export interface WalletScripts {
  witnessScript: Uint8Array;
  /** The P2WSH output script. */
  script: Uint8Array;
  /** The derived public keys, in descriptor order (not sorted). */
  pubkeys: Uint8Array[];
}

const versionsOf = (network: BitcoinNetwork) => (network === 'bitcoin' ? VERSIONS.main : VERSIONS.test);

/** The wallet's scripts at chain/index: every key's child at the same place, sorted (BIP-383). */
export function walletScripts(wallet: MultisigWallet, chain: Chain, index: number): WalletScripts {
  const pubkeys = wallet.keys.map((k) => {
    const pub = chainsOf(k.xpub, versionsOf(wallet.network))[chain].deriveChild(index).publicKey;
    if (!pub) throw new WardenError('INTERNAL', 'derived node has no public key');
    return pub;
  });
  const ms = p2ms(THRESHOLD, [...pubkeys].sort(compareBytes));
  return { witnessScript: ms.script, script: p2wsh(ms).script, pubkeys };
}

/** `wsh(sortedmulti(2,[fp/48h/1h/0h/2h]tpub…/0/*,…))#checksum` for the receive (0) or change (1) chain. */
export function walletDescriptor(wallet: MultisigWallet, chain: Chain): string {
  const keys = wallet.keys.map((k) => `[${k.fingerprint}/${pathText(k.path)}]${k.xpub}/${chain}/*`);
  return withChecksum(`wsh(sortedmulti(${THRESHOLD},${keys.join(',')}))`);
}

/**
 * The wallet of two cosigners and Warden's own account, refused (INVALID_ARGUMENT, `reason`)
 * when two keys are one (the same public key or the same seed's fingerprint: one holder would
 * hold two of the three keys) or a cosigner is Warden's own seed.
 */
export function buildWallet(
  name: string,
  network: BitcoinNetwork,
  cosigners: readonly Cosigner[],
  own: { fingerprint: string; path: number[]; xpub: string; publicKey: string },
): MultisigWallet {
  if (cosigners.length !== 2)
    throw new WardenError('INVALID_ARGUMENT', 'a 2-of-3 wallet has exactly two cosigners besides Warden', {
      field: 'cosigner',
      reason: 'count',
      given: cosigners.length,
    });
  for (const [i, c] of cosigners.entries()) {
    if (c.publicKey === own.publicKey || c.fingerprint === own.fingerprint)
      throw new WardenError(
        'INVALID_ARGUMENT',
        `cosigner ${i + 1} is Warden's own key (the identity's seed): a cosigner must hold a key of its own`,
        { field: `cosigner[${i}]`, reason: 'own_key' },
      );
  }
  const [a, b] = cosigners as [Cosigner, Cosigner];
  if (a.publicKey === b.publicKey || a.fingerprint === b.fingerprint)
    throw new WardenError('INVALID_ARGUMENT', 'the two cosigners are the same key (or the same seed)', {
      field: 'cosigner[1]',
      reason: 'duplicate',
    });
  const key = (k: { fingerprint: string; path: number[]; xpub: string }): WalletKey => ({
    fingerprint: k.fingerprint,
    path: [...k.path],
    xpub: k.xpub,
  });
  return { name, network, keys: [key(a), key(own), key(b)], warden: 1 };
}

export const isP2wsh = (script: Uint8Array): boolean => {
  try {
    return OutScript.decode(script).type === 'wsh';
  } catch {
    return false;
  }
};
