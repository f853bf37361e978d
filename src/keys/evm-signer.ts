import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { deriveWiping, EVM_PATH, evmAddressFromNode } from './derive.ts';
import type { Vault } from './vault.ts';

export interface EvmDigestSignature {
  r: `0x${string}`;
  s: `0x${string}`;
  yParity: 0 | 1;
  /** EIP-55 address of the key that signed (the identity's EVM address, m/44'/60'/0'/0/0). */
  address: string;
}

/**
 * Signs a 32-byte digest (an EVM transaction's signing hash) with the identity's active seed key at
 * EVM_PATH. The seed is unsealed only inside `useSecret` (wiped when the turn ends); every HD node and the copy
 * of the private key are wiped before returning. No hex form of the private key is ever made.
 * Deterministic (RFC 6979), low-S, as Ethereum requires.
 */
export function signEvmDigest(vault: Vault, identity: string, digest: Uint8Array): EvmDigestSignature {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) {
    throw new WardenError('INVALID_ARGUMENT', 'an EVM signing digest is exactly 32 bytes');
  }
  return vault.useSecret(identity, 'seed', 'sign', (seed) => {
    const root = HDKey.fromMasterSeed(seed);
    let node: HDKey | null = null;
    let secretKey: Uint8Array | null = null;
    try {
      node = deriveWiping(root, EVM_PATH);
      secretKey = node.privateKey; // a copy: wiped below
      if (!secretKey) throw new WardenError('INTERNAL', 'derived EVM node has no private key');
      const sig = secp256k1.sign(digest, secretKey, { prehash: false, lowS: true, format: 'recovered' });
      // 'recovered' is recovery byte || r (32) || s (32).
      const recovery = sig[0];
      if (sig.length !== 65 || (recovery !== 0 && recovery !== 1)) {
        // Recovery ids 2 and 3 (r ≥ n) occur with probability ~2^-128 and cannot be encoded in yParity.
        throw new WardenError('INTERNAL', 'unusable ECDSA recovery id');
      }
      return {
        r: `0x${bytesToHex(sig.subarray(1, 33))}`,
        s: `0x${bytesToHex(sig.subarray(33, 65))}`,
        yParity: recovery,
        address: evmAddressFromNode(node),
      };
    } finally {
      wipe(secretKey);
      node?.wipePrivateData();
      root.wipePrivateData();
    }
  });
}
