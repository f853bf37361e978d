/**
 * The identity's own single-key accounts (BIP-84 P2WPKH and BIP-86 P2TR, account 0), public keys
 * only, and the one test of ownership Warden trusts: re-derivation. A script is the identity's only
 * when the key at the path a PSBT claims, derived here from OUR account xpub, gives exactly that
 * script. A claimed path or fingerprint alone proves nothing: anyone can write ours into a PSBT.
 */
import { HARDENED_OFFSET, type HDKey } from '@scure/bip32';
import { p2tr, p2wpkh } from '@scure/btc-signer';
import { equalBytes } from '@scure/btc-signer/utils.js';
import { WardenError } from '../../core/errors.ts';
import type { IdentityView } from '../../keys/view.ts';
import { chainsOf, VERSIONS } from './chains.ts';
import { isP2wsh, type MultisigWallet, walletScripts } from './multisig/wallet.ts';
import { type BitcoinNetwork, coinTypeOf, isBitcoinNetwork } from './networks.ts';

export type AccountName = 'bip84' | 'bip86';
/** 0: receive (external) chain; 1: change (internal) chain. */
export type Chain = 0 | 1;

/**
 * Where one of the identity's keys is: its account, chain and index (m/purpose'/coin'/0'/chain/index),
 * or, for `bip48`, the registered 2-of-3 wallet whose scripts re-derive at chain/index (Warden's
 * key there is m/48'/coin'/0'/2'/chain/index).
 */
export interface KeyPath {
  account: AccountName | 'bip48';
  chain: Chain;
  index: number;
  /** The registered wallet's name (bip48 only). */
  wallet?: string;
}
/** A key of a single-key account. */
export type SingleKeyPath = KeyPath & { account: AccountName };

export interface BitcoinAccounts {
  network: BitcoinNetwork;
  /** The seed's master fingerprint, as PSBTs carry it (a 32-bit number, big-endian). */
  fingerprint: number;
  /** Receive (0) and change (1) chain nodes of each account, public only. */
  bip84: readonly [HDKey, HDKey];
  bip86: readonly [HDKey, HDKey];
  /** The identity's registered 2-of-3 wallets, MAC-checked (multisig/registry.ts); none by default. */
  multisig: readonly MultisigWallet[];
}

const PURPOSE: Record<AccountName, number> = { bip84: 84, bip86: 86 };

/** The identity's accounts, or KEY_NOT_ACTIVE when it has no seed (or no Bitcoin network). */
export function accountsOf(keys: IdentityView): BitcoinAccounts {
  if (!keys.bitcoin) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no Bitcoin key');
  if (!isBitcoinNetwork(keys.network))
    throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no Bitcoin network', { network: keys.network });
  const versions = keys.network === 'bitcoin' ? VERSIONS.main : VERSIONS.test;
  return {
    network: keys.network,
    fingerprint: Number.parseInt(keys.bitcoin.fingerprint, 16),
    bip84: chainsOf(keys.bitcoin.bip84.xpub, versions),
    bip86: chainsOf(keys.bitcoin.bip86.xpub, versions),
    multisig: [],
  };
}

/** The full path of a key of ours, as BIP-32 indexes. */
export function fullPath(accounts: BitcoinAccounts, key: SingleKeyPath): number[] {
  const coin = coinTypeOf(accounts.network);
  return [
    PURPOSE[key.account] + HARDENED_OFFSET,
    coin + HARDENED_OFFSET,
    HARDENED_OFFSET,
    key.chain,
    key.index,
  ];
}

/** The output script of a key of ours: P2WPKH for BIP-84, BIP-86 key-path-only P2TR for BIP-86. */
export function scriptOfKey(accounts: BitcoinAccounts, key: SingleKeyPath): Uint8Array {
  const chain = accounts[key.account][key.chain];
  let scripts = SCRIPTS.get(chain);
  if (!scripts) {
    scripts = new Map();
    SCRIPTS.set(chain, scripts);
  }
  const known = scripts.get(key.index);
  if (known) return known;
  const pub = chain.deriveChild(key.index).publicKey;
  if (!pub) throw new WardenError('INTERNAL', 'derived node has no public key');
  const script = key.account === 'bip84' ? p2wpkh(pub).script : p2tr(pub.subarray(1)).script;
  // Public data; a chain keeps at most this many (a hostile PSBT may claim any index).
  if (scripts.size >= MAX_SCRIPTS_PER_CHAIN) scripts.delete(scripts.keys().next().value!);
  scripts.set(key.index, script);
  return script;
}

/** Scripts of derived keys by chain node (public data): the taproot tweak is a point multiplication. */
const SCRIPTS = new WeakMap<HDKey, Map<number, Uint8Array>>();
const MAX_SCRIPTS_PER_CHAIN = 1024;

/** A claimed path read as one of ours, or null: our coin type, account 0, chain 0/1, unhardened index. */
function keyPathOf(
  accounts: BitcoinAccounts,
  account: AccountName,
  path: readonly number[],
): SingleKeyPath | null {
  if (path.length !== 5) return null;
  const [chain, index] = [path[3]!, path[4]!];
  if (chain !== 0 && chain !== 1) return null;
  if (index >= HARDENED_OFFSET) return null;
  const key: SingleKeyPath = { account, chain, index };
  const expected = fullPath(accounts, key);
  return expected.every((n, i) => n === path[i]) ? key : null;
}

type Bip32Entry = readonly [Uint8Array, { fingerprint: number; path: readonly number[] }];
type TapBip32Entry = readonly [
  Uint8Array,
  { hashes: readonly Uint8Array[]; der: { fingerprint: number; path: readonly number[] } },
];

/** The derivation claims a PSBT input or output makes (PSBT_IN/OUT_BIP32_DERIVATION, TAP_BIP32_DERIVATION). */
export interface DerivationClaims {
  bip32Derivation?: readonly Bip32Entry[] | undefined;
  tapBip32Derivation?: readonly TapBip32Entry[] | undefined;
}

/**
 * How many keys one PSBT may make Warden derive. Each derivation is a point multiplication (two
 * for taproot) on the request path, and a hostile PSBT can claim thousands of paths of ours: past
 * this many, the PSBT is refused. A PSBT with more than this many inputs and outputs of the
 * identity is not one an agent needs signed in one go.
 */
export const MAX_DERIVATIONS = 64;

/** What is left of one PSBT's derivations. */
export interface DerivationBudget {
  left: number;
}

export function derivationBudget(): DerivationBudget {
  return { left: MAX_DERIVATIONS };
}

function spend(budget: DerivationBudget): void {
  if (budget.left <= 0)
    throw new WardenError(
      'INVALID_REQUEST',
      `psbt claims more than ${MAX_DERIVATIONS} keys of the identity: split it`,
      { field: 'psbt', reason: 'too_many_claims', cap: MAX_DERIVATIONS },
    );
  budget.left--;
}

/** Whether a P2WPKH script is the one of this public key: a hash, no derivation (a cheap first filter). */
function isP2wpkhOf(pub: Uint8Array, script: Uint8Array): boolean {
  try {
    return equalBytes(p2wpkh(pub).script, script);
  } catch {
    return false;
  }
}

/**
 * Which key of ours `script` is, judged by re-derivation: each claim with our fingerprint and a
 * path of ours is derived from our xpub, and only a claim whose derived script is `script` counts.
 * A P2WPKH claim whose own public key is not the script's is not even derived. Taproot claims
 * count only for a key-path spend (no leaf hashes), as BIP-86 keys have no scripts.
 */
export function ownerOf(
  accounts: BitcoinAccounts,
  script: Uint8Array,
  claims: DerivationClaims,
  budget: DerivationBudget,
): KeyPath | null {
  for (const [pub, der] of claims.bip32Derivation ?? []) {
    if (der.fingerprint !== accounts.fingerprint || !isP2wpkhOf(pub, script)) continue;
    const key = keyPathOf(accounts, 'bip84', der.path);
    if (!key) continue;
    spend(budget);
    if (equalBytes(scriptOfKey(accounts, key), script)) return key;
  }
  for (const [, leaf] of claims.tapBip32Derivation ?? []) {
    if (leaf.hashes.length !== 0 || leaf.der.fingerprint !== accounts.fingerprint) continue;
    const key = keyPathOf(accounts, 'bip86', leaf.der.path);
    if (!key) continue;
    spend(budget);
    if (equalBytes(scriptOfKey(accounts, key), script)) return key;
  }
  return accounts.multisig.length > 0 ? multisigOwnerOf(accounts.multisig, script, claims, budget) : null;
}

/**
 * Which registered 2-of-3 wallet `script` is, and where: a claim whose fingerprint and path are
 * one of a wallet's keys' origin followed by chain/index makes the wallet's script at chain/index
 * derived (all three keys, sorted), and only an exact P2WSH match counts. Claims naming the
 * wallet's keys but another key set (a fake change output with the right fingerprints) fail here.
 */
function multisigOwnerOf(
  wallets: readonly MultisigWallet[],
  script: Uint8Array,
  claims: DerivationClaims,
  budget: DerivationBudget,
): KeyPath | null {
  if (!isP2wsh(script)) return null;
  for (const [, der] of claims.bip32Derivation ?? []) {
    for (const wallet of wallets) {
      const origin = wallet.keys.find(
        (k) =>
          Number.parseInt(k.fingerprint, 16) === der.fingerprint &&
          der.path.length === k.path.length + 2 &&
          k.path.every((n, i) => n === der.path[i]),
      );
      if (!origin) continue;
      const [chain, index] = [der.path[origin.path.length]!, der.path[origin.path.length + 1]!];
      if ((chain !== 0 && chain !== 1) || index >= HARDENED_OFFSET) continue;
      spend(budget);
      if (equalBytes(walletScripts(wallet, chain, index).script, script))
        return { account: 'bip48', wallet: wallet.name, chain, index };
    }
  }
  return null;
}
