import type { AccountPublic, NostrPublic, SeedPublic } from './derive.ts';
import {
  type IdentityMeta,
  type KeyPurpose,
  type KeyStatus,
  keyStatus,
  type LightningPublic,
} from './model.ts';

/** The public face of an identity: what `warden identity show` prints. Never holds a secret. */
export interface KeyView {
  purpose: KeyPurpose;
  version: number;
  status: KeyStatus;
  origin: string;
  createdAt: string;
  rotationDue: string | null;
  deprecatedAt: string | null;
  retiresAt: string | null;
  public: SeedPublic | NostrPublic | LightningPublic;
}

export interface IdentityView {
  name: string;
  createdAt: string;
  network: string;
  nostr: NostrPublic | null;
  bitcoin: { fingerprint: string; bip84: AccountPublic; bip86: AccountPublic } | null;
  evm: { path: string; address: string } | null;
  lightning: { configured: boolean; kind: string | null };
  keys: KeyView[];
}

/**
 * Each key's public data as views hand it out: a deep copy, frozen, made once per key record
 * (records are replaced, never edited, when a key changes). Every request reads its identity's
 * view twice, and copying it each time was a visible part of a request; frozen, a caller that
 * tried to change it would throw rather than reach the vault's record or another caller's view.
 */
const publicCopies = new WeakMap<object, KeyView['public']>();

function publicCopy(p: KeyView['public']): KeyView['public'] {
  let copy = publicCopies.get(p);
  if (copy === undefined) {
    copy = deepFreeze(structuredClone(p));
    publicCopies.set(p, copy);
  }
  return copy;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function identityView(identity: IdentityMeta, now: Date): IdentityView {
  const keys: KeyView[] = identity.keys.map((k) => ({
    purpose: k.purpose,
    version: k.version,
    status: keyStatus(k, now),
    origin: k.origin,
    createdAt: k.createdAt,
    rotationDue: k.rotationDue,
    deprecatedAt: k.deprecatedAt,
    retiresAt: k.retiresAt,
    public: publicCopy(k.public),
  }));
  const active = (purpose: KeyPurpose) => keys.find((k) => k.purpose === purpose && k.status === 'active');
  const seed = active('seed')?.public as SeedPublic | undefined;
  const lightning = active('lightning')?.public as LightningPublic | undefined;
  return {
    name: identity.name,
    createdAt: identity.createdAt,
    network: identity.network,
    nostr: (active('nostr')?.public as NostrPublic | undefined) ?? null,
    bitcoin: seed ? { fingerprint: seed.fingerprint, bip84: seed.bip84, bip86: seed.bip86 } : null,
    evm: seed ? seed.evm : null,
    lightning: { configured: !!lightning?.kind, kind: lightning?.kind ?? null },
    keys,
  };
}
