import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { HARDENED_OFFSET, HDKey, type Versions } from '@scure/bip32';
// Subpaths, and noble for the rest: every CLI command loads this file, and nostr-tools' index
// and viem cost more to load than the command's work.
import { npubEncode } from 'nostr-tools/nip19';
import { withChecksum } from '../core/descriptor.ts';

export type BitcoinNetwork = 'bitcoin' | 'testnet' | 'signet' | 'regtest';
export const BITCOIN_NETWORKS: readonly BitcoinNetwork[] = ['bitcoin', 'testnet', 'signet', 'regtest'];

const VERSIONS: Record<'main' | 'test', Versions> = {
  main: { private: 0x0488ade4, public: 0x0488b21e },
  test: { private: 0x04358394, public: 0x043587cf },
};

export interface AccountPublic {
  path: string;
  xpub: string;
  receiveDescriptor: string;
  changeDescriptor: string;
}

/** Everything public that a BIP-39 seed gives: the only seed-derived data that leaves keys/. */
export interface SeedPublic {
  fingerprint: string;
  bip84: AccountPublic;
  bip86: AccountPublic;
  evm: { path: string; address: string };
}

export interface NostrPublic {
  pubkey: string;
  npub: string;
}

function parsePath(path: string): number[] {
  return path
    .split('/')
    .slice(1)
    .map((part) =>
      part.endsWith("'") ? Number.parseInt(part, 10) + HARDENED_OFFSET : Number.parseInt(part, 10),
    );
}

/**
 * Derives step by step and wipes every intermediate node's private key, so the only private
 * data left is in the returned node, which the caller wipes (`wipePrivateData`).
 */
export function deriveWiping(root: HDKey, path: string): HDKey {
  let node = root;
  for (const index of parsePath(path)) {
    const child = node.deriveChild(index);
    if (node !== root) node.wipePrivateData();
    node = child;
  }
  return node;
}

function account(root: HDKey, purpose: 84 | 86, coin: number): AccountPublic {
  const path = `m/${purpose}'/${coin}'/0'`;
  const node = deriveWiping(root, path);
  const xpub = node.publicExtendedKey;
  node.wipePrivateData();
  const fp = root.fingerprint.toString(16).padStart(8, '0');
  const key = `[${fp}/${purpose}h/${coin}h/0h]${xpub}`;
  const wrap = (branch: 0 | 1) =>
    withChecksum(purpose === 84 ? `wpkh(${key}/${branch}/*)` : `tr(${key}/${branch}/*)`);
  return { path, xpub, receiveDescriptor: wrap(0), changeDescriptor: wrap(1) };
}

export const EVM_PATH = "m/44'/60'/0'/0/0";

export function evmAddressFromNode(node: HDKey): string {
  const compressed = node.publicKey;
  if (!compressed) throw new Error('HD node has no public key');
  const uncompressed = secp256k1.Point.fromBytes(compressed).toBytes(false);
  return checksummedAddress(keccak_256(uncompressed.subarray(1)).subarray(12));
}

/** EIP-55: a hex letter is upper case where the keccak-256 of the lowercase hex has a nibble ≥ 8. */
export function checksummedAddress(address: Uint8Array): string {
  const hex = bytesToHex(address);
  const hash = bytesToHex(keccak_256(utf8ToBytes(hex)));
  let out = '0x';
  for (let i = 0; i < hex.length; i++)
    out += Number.parseInt(hash[i]!, 16) >= 8 ? hex[i]!.toUpperCase() : hex[i];
  return out;
}

/** Public data of a 64-byte BIP-39 seed. Does not keep or return any private data. */
export function seedPublic(seed: Uint8Array, network: BitcoinNetwork): SeedPublic {
  const main = network === 'bitcoin';
  const root = HDKey.fromMasterSeed(seed, main ? VERSIONS.main : VERSIONS.test);
  try {
    const coin = main ? 0 : 1;
    const evmNode = deriveWiping(root, EVM_PATH);
    const address = evmAddressFromNode(evmNode);
    evmNode.wipePrivateData();
    return {
      fingerprint: root.fingerprint.toString(16).padStart(8, '0'),
      bip84: account(root, 84, coin),
      bip86: account(root, 86, coin),
      evm: { path: EVM_PATH, address },
    };
  } finally {
    root.wipePrivateData();
  }
}

export function nostrPublic(secretKey: Uint8Array): NostrPublic {
  const pubkey = bytesToHex(schnorr.getPublicKey(secretKey));
  return { pubkey, npub: npubEncode(pubkey) };
}
