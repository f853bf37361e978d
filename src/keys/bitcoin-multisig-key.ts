/**
 * Warden's key in a multisig wallet: the identity's BIP-48 account for P2WSH (script type 2'),
 * m/48'/coin'/0'/2', derived from its seed here, the only room that sees the seed. What leaves is
 * public: the account xpub, its path and the seed's fingerprint, for the registration of a
 * wallet. Signing a multisig input (bitcoin-psbt-signer.ts) checks here, with the private key's own
 * public key, that the input is a 2-of-3 sorted multisig holding that key and spends its P2WSH.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { HDKey, type Versions } from '@scure/bip32';
import { OutScript, type Transaction } from '@scure/btc-signer';
import { compareBytes, equalBytes } from '@scure/btc-signer/utils.js';
import { WardenError } from '../core/errors.ts';
import { deriveWiping } from './derive.ts';
import type { Vault } from './vault.ts';

/** BIP-48 script type of native segwit multisig (P2WSH). */
export const BIP48_P2WSH = 2;

const VERSIONS: Record<0 | 1, Versions> = {
  0: { private: 0x0488ade4, public: 0x0488b21e },
  1: { private: 0x04358394, public: 0x043587cf },
};

export interface MultisigAccountPublic {
  /** The seed's master fingerprint, 8 hex digits. */
  fingerprint: string;
  /** m/48'/coin'/0'/2' */
  path: string;
  /** The account's extended public key (xpub on mainnet, tpub elsewhere). */
  xpub: string;
}

export function multisigAccountPath(coinType: 0 | 1): string {
  return `m/48'/${coinType}'/0'/${BIP48_P2WSH}'`;
}

/** The identity's BIP-48 P2WSH account, public data only; the seed is unsealed for this call only. */
export function multisigAccountPublic(
  vault: Vault,
  identity: string,
  coinType: 0 | 1,
): MultisigAccountPublic {
  return vault.useSecret(identity, 'seed', 'sign', (seed) => {
    const root = HDKey.fromMasterSeed(seed, VERSIONS[coinType]);
    try {
      const path = multisigAccountPath(coinType);
      const node = deriveWiping(root, path);
      const xpub = node.publicExtendedKey;
      node.wipePrivateData();
      return { fingerprint: root.fingerprint.toString(16).padStart(8, '0'), path, xpub };
    } finally {
      root.wipePrivateData();
    }
  });
}

/**
 * Refuses (SIGNING_FAILED) unless input `index` spends P2WSH(witnessScript) where the witness
 * script is exactly 2-of-3 with sorted keys (sortedmulti) and `pub` among them. Which cosigners
 * the other two keys are was judged by the analysis against the registered set; this is the
 * signer's own floor: Warden's key never signs a script it is not a 2-of-3 member of.
 */
export function checkMultisigInput(tx: Transaction, index: number, spent: Uint8Array, pub: Uint8Array): void {
  const why = multisigProblem(tx.getInput(index).witnessScript, spent, pub);
  if (why)
    throw new WardenError('SIGNING_FAILED', `the input is not a 2-of-3 of this key: ${why}`, {
      input: index,
    });
}

function multisigProblem(script: Uint8Array | undefined, spent: Uint8Array, pub: Uint8Array): string | null {
  if (!script) return 'no witness script';
  let decoded: { type: string; m?: number; pubkeys?: Uint8Array[] };
  try {
    decoded = OutScript.decode(script);
  } catch {
    return 'not a standard script';
  }
  const keys = decoded.pubkeys ?? [];
  if (decoded.type !== 'ms' || decoded.m !== 2 || keys.length !== 3) return 'not 2-of-3';
  const sorted = [...keys].sort(compareBytes);
  if (!sorted.every((k, i) => equalBytes(k, keys[i]!))) return 'keys not sorted';
  if (!keys.some((k) => equalBytes(k, pub))) return 'key not in it';
  if (!equalBytes(OutScript.encode({ type: 'wsh', hash: sha256(script) }), spent))
    return 'does not spend its P2WSH';
  return null;
}
