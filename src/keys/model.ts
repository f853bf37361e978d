import { WardenError } from '../core/errors.ts';
import type { BitcoinNetwork, NostrPublic, SeedPublic } from './derive.ts';

/** What the sealed metadata of the keystore holds. Public data only: secrets are sealed apart. */
export type KeyPurpose = 'seed' | 'nostr' | 'lightning';
/** The purposes whose key is generated (so can be rotated); a backend credential is set instead. */
export type RotatablePurpose = Exclude<KeyPurpose, 'lightning'>;
/** The audit action of setting an identity's backend credential (its sealed Lightning slot). */
export const CREDENTIAL_SET_ACTION = 'identity.lightning.set';
export type KeyOrigin = 'generated' | 'imported' | 'empty';
export type StoredKeyStatus = 'active' | 'deprecated';
/** `retired` is derived: a deprecated key past its grace period. It is kept sealed, never used. */
export type KeyStatus = StoredKeyStatus | 'retired';
export type LightningCredentialKind = 'macaroon' | 'rune' | 'nwc';

export interface LightningPublic {
  kind: LightningCredentialKind | null;
}

export interface KeyVersion {
  secretId: string;
  purpose: KeyPurpose;
  version: number;
  origin: KeyOrigin;
  createdAt: string;
  rotationDue: string | null;
  status: StoredKeyStatus;
  deprecatedAt: string | null;
  retiresAt: string | null;
  public: SeedPublic | NostrPublic | LightningPublic;
}

export interface IdentityMeta {
  name: string;
  createdAt: string;
  network: BitcoinNetwork;
  keys: KeyVersion[];
}

export interface VaultMeta {
  vaultId: string;
  createdAt: string;
  audit: {
    signingSecretId: string;
    detailsSecretId: string;
    publicKey: string;
    keyId: string;
  };
  identities: Record<string, IdentityMeta>;
}

export const ROTATION_PERIOD_DAYS = 90;
export const DEPRECATION_GRACE_DAYS = 30;

export function keyStatus(key: KeyVersion, now: Date): KeyStatus {
  if (key.status === 'deprecated' && key.retiresAt && now.getTime() >= Date.parse(key.retiresAt))
    return 'retired';
  return key.status;
}

export function rotationIsDue(key: KeyVersion, now: Date): boolean {
  return key.status === 'active' && key.rotationDue !== null && now.getTime() >= Date.parse(key.rotationDue);
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export function isValidIdentityName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/** Throws INVALID_NAME for a name the vault would refuse; the CLI calls it before it unseals. */
export function checkIdentityName(name: string): void {
  if (!isValidIdentityName(name)) {
    throw new WardenError('INVALID_NAME', 'identity names are 1-63 characters: a-z, 0-9, - and _', { name });
  }
}
