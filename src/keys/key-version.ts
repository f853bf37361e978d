import { wipe } from '../core/bytes.ts';
import { DAY_MS } from '../core/clock.ts';
import { randomId } from '../core/ids.ts';
import { sealSecret } from './container.ts';
import { type BitcoinNetwork, nostrPublic, seedPublic } from './derive.ts';
import { generateEntropy, mnemonicBytesFromEntropy, seedFromMnemonicBytes } from './mnemonic.ts';
import { type KeyOrigin, type KeyPurpose, type KeyVersion, ROTATION_PERIOD_DAYS } from './model.ts';

/** Seals `plaintext` under a fresh secret id into `secrets`; the caller still owns (and wipes) it. */
export function addSecret(
  secrets: Map<string, Uint8Array>,
  kek: Uint8Array,
  vaultId: string,
  plaintext: Uint8Array,
): string {
  const id = randomId('sec');
  secrets.set(id, sealSecret(kek, vaultId, id, plaintext));
  return id;
}

/** Seals a new key version's secret and returns its metadata, public parts included. */
export function newKeyVersion(
  secrets: Map<string, Uint8Array>,
  kek: Uint8Array,
  vaultId: string,
  key: {
    purpose: KeyPurpose;
    version: number;
    origin: KeyOrigin;
    secret: Uint8Array;
    network: BitcoinNetwork;
    now: Date;
  },
): KeyVersion {
  const { purpose, secret, now } = key;
  return {
    secretId: addSecret(secrets, kek, vaultId, secret),
    purpose,
    version: key.version,
    origin: key.origin,
    createdAt: now.toISOString(),
    // A Lightning slot holds a backend credential, rotated by the backend, not by Warden.
    rotationDue:
      purpose === 'lightning' ? null : new Date(now.getTime() + ROTATION_PERIOD_DAYS * DAY_MS).toISOString(),
    status: 'active',
    deprecatedAt: null,
    retiresAt: null,
    public:
      purpose === 'seed'
        ? seedPublic(secret, key.network)
        : purpose === 'nostr'
          ? nostrPublic(secret)
          : { kind: null },
  };
}

/** A BIP-39 seed from 256 bits of fresh entropy; the entropy and mnemonic are wiped. */
export function generatedSeed(): Uint8Array {
  const entropy = generateEntropy(32);
  const mnemonic = mnemonicBytesFromEntropy(entropy);
  try {
    return seedFromMnemonicBytes(mnemonic);
  } finally {
    wipe(entropy, mnemonic);
  }
}
