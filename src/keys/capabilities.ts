/**
 * Narrow signer capabilities: what an execution gets instead of the Vault. Each one signs with one
 * key of one identity, unsealing it only for signing (Vault.useSecret: wiped when the turn ends);
 * none can reveal a key, reach another identity or sign with another purpose's key.
 */
import type { Transaction } from '@scure/btc-signer';
import type { EventTemplate, NostrEvent } from 'nostr-tools';
import { WardenError } from '../core/errors.ts';
import { type MultisigAccountPublic, multisigAccountPublic } from './bitcoin-multisig-key.ts';
import { type PsbtInputKey, signPsbtInputs } from './bitcoin-psbt-signer.ts';
import { type EvmDigestSignature, signEvmDigest } from './evm-signer.ts';
import type { LightningCredentialKind } from './model.ts';
import { nostrDecryptNip44, nostrEncryptNip44 } from './nostr-encryption.ts';
import { signNostrEvent, signNostrEventOffThread } from './nostr-signer.ts';
import { type NwcWalletClient, withNwcClient } from './nwc-client-key.ts';
import type { SchnorrThread } from './schnorr-thread.ts';
import type { Vault } from './vault.ts';

/** Signs NIP-01 events with the identity's active Nostr key. */
export interface NostrEventSigner {
  /** The x-only public key (hex) that signs: the review names it. */
  readonly publicKey: string;
  signEvent(template: EventTemplate): NostrEvent;
  /** The same on the signing thread, when the caller runs one (`signerFor`'s `thread`). */
  signEventOffThread?(template: EventTemplate): Promise<NostrEvent>;
}

/**
 * NIP-44 v2 encryption with the identity's active Nostr key: the conversation key with a peer is
 * made inside keys/ for one message and wiped (keys/nostr-encryption.ts); neither it nor the secret
 * key is ever returned. Failures are NIP44_REFUSED (`details.reason`); callers check hostile
 * payloads first with src/protocols/nostr/nip44.ts.
 */
export interface NostrEncryptor {
  /** The x-only public key (hex) whose conversations these are. */
  readonly publicKey: string;
  /** A base64 NIP-44 v2 payload of `plaintext` for the peer (x-only hex public key). */
  encrypt(peerPubkeyHex: string, plaintext: string): string;
  /** The plaintext of a NIP-44 v2 payload from the peer. */
  decrypt(peerPubkeyHex: string, payload: string): string;
}

/** Signs 32-byte digests with the identity's EVM key (m/44'/60'/0'/0/0). */
export interface EvmDigestSigner {
  /** Lower-case 0x address of the key that signs. */
  readonly address: string;
  signDigest(digest: Uint8Array): EvmDigestSignature;
}

/**
 * Signs given inputs of a PSBT with the identity's BIP-84 / BIP-86 keys (account 0, the paths the
 * caller re-derived), checking each input spends that key's script; returns the PSBT signed.
 */
export interface BitcoinPsbtSigner {
  /** The seed's master fingerprint (8 hex digits) and the accounts' coin type: the keys that sign. */
  readonly fingerprint: string;
  readonly coinType: 0 | 1;
  /** The identity's BIP-48 P2WSH account (public): its key in the multisig wallets it registers. */
  multisigAccount(): MultisigAccountPublic;
  /** `psbt` as bytes, or as a decoded transaction handed over (it is signed in place). */
  signInputs(
    psbt: Uint8Array | Transaction,
    keys: readonly PsbtInputKey[],
    allowedSighash: readonly number[],
  ): Uint8Array;
}
export type { MultisigAccountPublic, PsbtInputKey };

/**
 * Lends the identity's sealed backend credential (its Lightning slot: a macaroon, rune or NWC URI)
 * to one call: a copy is unsealed for `fn` and wiped when `fn` settles, whatever it returns. It is
 * never handed back; the caller must not keep it (nor anything that holds it) past `fn`.
 */
export interface BackendCredential {
  /** What the slot holds (`macaroon`, `rune`, `nwc`). */
  readonly kind: LightningCredentialKind;
  use<T>(fn: (credential: Uint8Array) => Promise<T>): Promise<T>;
  /**
   * For the `nwc` kind: a client of the upstream wallet (its key and relays, signing and NIP-44 v2
   * to it) for `fn`, the URI's secret never leaving keys/ and wiped when `fn` settles. Any other
   * kind: KEY_NOT_ACTIVE. A malformed URI: INVALID_ARGUMENT (keys/nwc-uri.ts).
   */
  useNwc<T>(fn: (client: NwcWalletClient) => Promise<T>): Promise<T>;
}
export type { NwcWalletClient };

/** Signs nothing: for operations that only read or derive public data (a Bitcoin address, a balance). */
export type NoSigner = Readonly<Record<string, never>>;

export interface Signers {
  none: NoSigner;
  'nostr-event': NostrEventSigner;
  'nostr-encrypt': NostrEncryptor;
  'evm-digest': EvmDigestSigner;
  'bitcoin-psbt': BitcoinPsbtSigner;
  'lightning-credential': BackendCredential;
}
export type SignerKind = keyof Signers;
export type SignerOf<K extends SignerKind> = Signers[K];

/** The capability of `kind` for one identity; KEY_NOT_ACTIVE when the identity has no such key. */
export function signerFor<K extends SignerKind>(
  vault: Vault,
  identity: string,
  kind: K,
  thread?: SchnorrThread,
): Signers[K] {
  const make: { [S in SignerKind]: () => Signers[S] } = {
    none: () => Object.freeze({}),
    'nostr-event': () => {
      const nostr = vault.activePublic(identity, 'nostr');
      if (!nostr) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no Nostr key');
      const publicKey = nostr.pubkey;
      return Object.freeze({
        publicKey,
        signEvent: (t: EventTemplate) => signNostrEvent(vault, identity, publicKey, t),
        ...(thread
          ? {
              signEventOffThread: (t: EventTemplate) =>
                signNostrEventOffThread(vault, thread, identity, publicKey, t),
            }
          : {}),
      });
    },
    'nostr-encrypt': () => {
      const nostr = vault.activePublic(identity, 'nostr');
      if (!nostr) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no Nostr key');
      return Object.freeze({
        publicKey: nostr.pubkey,
        encrypt: (peer: string, plaintext: string) => nostrEncryptNip44(vault, identity, peer, plaintext),
        decrypt: (peer: string, payload: string) => nostrDecryptNip44(vault, identity, peer, payload),
      });
    },
    'evm-digest': () => {
      const seed = vault.activePublic(identity, 'seed');
      if (!seed) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no EVM key');
      const address = seed.evm.address.toLowerCase();
      return Object.freeze({ address, signDigest: (d: Uint8Array) => signEvmDigest(vault, identity, d) });
    },
    'bitcoin-psbt': () => {
      const seed = vault.activePublic(identity, 'seed');
      if (!seed) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no Bitcoin key');
      // The accounts' own path says the coin type (m/84'/0'/0' on mainnet, m/84'/1'/0' elsewhere).
      const coinType = seed.bip84.path.startsWith("m/84'/0'/") ? 0 : 1;
      return Object.freeze({
        fingerprint: seed.fingerprint,
        coinType,
        multisigAccount: () => multisigAccountPublic(vault, identity, coinType),
        signInputs: (
          psbt: Uint8Array | Transaction,
          keys: readonly PsbtInputKey[],
          allowed: readonly number[],
        ) => signPsbtInputs(vault, identity, coinType, psbt, keys, allowed),
      });
    },
    'lightning-credential': () => {
      const kind = vault.getIdentity(identity).lightning.kind as LightningCredentialKind | null;
      if (!kind) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no Lightning credential');
      async function use<T>(fn: (credential: Uint8Array) => Promise<T>): Promise<T> {
        // A copy out of the synchronous unseal (wiped as it ends), wiped here once `fn` settles.
        const copy = vault.useSecret(identity, 'lightning', 'sign', (secret) => Uint8Array.from(secret));
        try {
          return await fn(copy);
        } finally {
          copy.fill(0);
        }
      }
      return Object.freeze({
        kind,
        use,
        async useNwc<T>(fn: (client: NwcWalletClient) => Promise<T>): Promise<T> {
          if (kind !== 'nwc')
            throw new WardenError(
              'KEY_NOT_ACTIVE',
              `the identity's Lightning credential is a ${kind}, not nwc`,
            );
          return use((uri) => withNwcClient(uri, fn));
        },
      });
    },
  };
  return make[kind]();
}
