import { existsSync } from 'node:fs';
import { wipe } from '../core/bytes.ts';
import { type Clock, DAY_MS } from '../core/clock.ts';
import { WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { type AuditKeyAccess, auditKeyAccess, newAuditKeys } from './audit-keys.ts';
import { newHeader, openContainer, openDatabase } from './container.ts';
import { type ControlPlaneMac, controlPlaneMac, deriveControlPlaneKey } from './control-plane-key.ts';
import type { BitcoinNetwork, NostrPublic, SeedPublic } from './derive.ts';
import { DEFAULT_KDF } from './kdf.ts';
import { generatedSeed } from './key-version.ts';
import { seedFromMnemonicBytes } from './mnemonic.ts';
import {
  CREDENTIAL_SET_ACTION,
  checkIdentityName,
  DEPRECATION_GRACE_DAYS,
  type IdentityMeta,
  isValidIdentityName,
  type KeyPurpose,
  keyStatus,
  type LightningCredentialKind,
  type RotatablePurpose,
  rotationIsDue,
  type VaultMeta,
} from './model.ts';
import { deriveNwcServiceSecret, type NwcServiceKey, nwcServiceKeyOf } from './nwc-service-key.ts';
import { checkNwcUri } from './nwc-uri.ts';
import { deriveOnionServiceKey, type OnionServiceKey } from './onion-service-key.ts';
import { newSecp256k1SecretKey } from './random.ts';
import { resealUnder } from './reseal.ts';
import { type KdfSettings, type KeystorePaths, readKeystore, SealedKeystore } from './sealed-keystore.ts';
import type { UnsealThrottle } from './throttle.ts';
import { type IdentityView, identityView } from './view.ts';

export type { AuditKeyAccess } from './audit-keys.ts';
export type { ControlPlaneMac } from './control-plane-key.ts';
export type { AuditSink, KdfSettings, VaultEvent } from './sealed-keystore.ts';

/**
 * An unsealed vault: identities and their keys on top of the sealed keystore. A secret is
 * decrypted only inside `useSecret` (or the audit keys' calls), and wiped when the synchronous run
 * that used it ends (SealedKeystore.withSecret).
 */
/** An identity's generated keys as versions, for telling that one of them was rotated. */
function keyVersionsOf(meta: VaultMeta, identity: string): string {
  return (meta.identities[identity]?.keys ?? []).map((k) => `${k.purpose}:${k.version}`).join(',');
}

export class Vault extends SealedKeystore {
  readonly #rotationListeners = new Set<(identity: string) => void>();

  /**
   * Calls `listener` with each identity that has a new key version, as soon as this handle sees
   * it: rotated here, or by another process (the CLI) and read back by the next access. Returns
   * the unsubscribe.
   */
  onKeyRotation(listener: (identity: string) => void): () => void {
    this.#rotationListeners.add(listener);
    return () => this.#rotationListeners.delete(listener);
  }

  protected override reloaded(previous: VaultMeta, current: VaultMeta): void {
    for (const identity of Object.keys(current.identities))
      if (
        previous.identities[identity] &&
        keyVersionsOf(previous, identity) !== keyVersionsOf(current, identity)
      )
        for (const listener of this.#rotationListeners) listener(identity);
  }
  /** A new vault in memory, with its audit keys. Nothing is written until `commitNew`. */
  static async create(
    layout: KeystorePaths,
    passphrase: Uint8Array,
    clock: Clock,
    kdf: KdfSettings = DEFAULT_KDF,
  ): Promise<Vault> {
    const vaultId = randomId('vlt');
    const { header, kek } = await newHeader('warden-keystore', vaultId, passphrase, kdf);
    const secrets = new Map<string, Uint8Array>();
    const meta: VaultMeta = {
      vaultId,
      createdAt: clock.now().toISOString(),
      audit: newAuditKeys(secrets, kek, vaultId),
      identities: {},
    };
    return new Vault(layout, clock, kek, { header, meta, secrets });
  }

  static async unseal(
    layout: KeystorePaths,
    passphrase: Uint8Array,
    clock: Clock,
    throttle?: UnsealThrottle,
  ): Promise<{ vault: Vault; failedAttempts: number }> {
    const bytes = readKeystore(layout);
    await throttle?.beforeAttempt();
    try {
      const { container, kek } = await openContainer<VaultMeta>(bytes, passphrase, 'warden-keystore');
      const failedAttempts = throttle?.recordSuccess() ?? 0;
      const vault = new Vault(layout, clock, kek, container);
      await vault.dropStalePrevious();
      return { vault, failedAttempts };
    } catch (err) {
      if (err instanceof WardenError && err.code === 'VAULT_BAD_PASSPHRASE') throttle?.recordFailure();
      if (
        err instanceof WardenError &&
        err.code === 'KEYSTORE_CORRUPT' &&
        existsSync(layout.keystorePrevious)
      ) {
        err.details.previousVersion = layout.keystorePrevious;
      }
      throw err;
    }
  }

  /** Reads a backup and re-seals every secret under a new passphrase; nothing written until `commitNew`. */
  static async fromBackup(
    layout: KeystorePaths,
    backup: Uint8Array,
    backupPassphrase: Uint8Array,
    newPassphrase: Uint8Array,
    clock: Clock,
    kdf: KdfSettings = DEFAULT_KDF,
  ): Promise<Vault> {
    return (await Vault.openBackup(layout, backup, backupPassphrase, newPassphrase, clock, kdf)).vault;
  }

  /**
   * `fromBackup`, plus the database snapshot the backup holds (authenticated and decrypted), or
   * null for a backup written before backups carried one.
   */
  static async openBackup(
    layout: KeystorePaths,
    backup: Uint8Array,
    backupPassphrase: Uint8Array,
    newPassphrase: Uint8Array,
    clock: Clock,
    kdf: KdfSettings = DEFAULT_KDF,
  ): Promise<{ vault: Vault; database: Uint8Array | null }> {
    const opened = await openContainer<VaultMeta>(backup, backupPassphrase, 'warden-backup');
    try {
      const sealedDb = opened.container.database;
      const database = sealedDb ? openDatabase(opened.kek, opened.container.header, sealedDb) : null;
      const { header, kek, secrets } = await resealUnder(
        {
          kind: 'warden-backup',
          kek: opened.kek,
          vaultId: opened.container.header.vaultId,
          secrets: opened.container.secrets,
        },
        'warden-keystore',
        newPassphrase,
        kdf,
      );
      return {
        vault: new Vault(layout, clock, kek, { header, meta: opened.container.meta, secrets }),
        database,
      };
    } finally {
      wipe(opened.kek);
    }
  }

  listIdentities(): IdentityView[] {
    this.refresh();
    const now = this.clock.now();
    return Object.values(this.meta.identities)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((i) => identityView(i, now));
  }

  getIdentity(name: string): IdentityView {
    this.refresh();
    return identityView(this.#identityMeta(name), this.clock.now());
  }

  /**
   * The public data of the identity's active key of one purpose, or null: what a signer needs on
   * every request, without building (and copying) the whole view.
   */
  activePublic<P extends 'nostr' | 'seed'>(name: string, purpose: P): Readonly<PublicOf[P]> | null {
    this.refresh();
    const now = this.clock.now();
    const key = this.#identityMeta(name).keys.find(
      (k) => k.purpose === purpose && keyStatus(k, now) === 'active',
    );
    return key ? (key.public as PublicOf[P]) : null;
  }

  /** Keys whose rotation date has passed, for `warden status`. */
  rotationDue(): { identity: string; purpose: KeyPurpose; version: number; rotationDue: string }[] {
    const now = this.clock.now();
    return Object.values(this.meta.identities).flatMap((i) =>
      i.keys
        .filter((k) => rotationIsDue(k, now))
        .map((k) => ({
          identity: i.name,
          purpose: k.purpose,
          version: k.version,
          rotationDue: k.rotationDue!,
        })),
    );
  }

  async createIdentity(name: string, network: BitcoinNetwork = 'bitcoin'): Promise<IdentityView> {
    return this.#addIdentity(name, network, 'identity.create', {});
  }

  /**
   * Imports an identity from a BIP-39 mnemonic (bytes) and/or a Nostr secret key. Whatever is not
   * imported is generated fresh. The caller's buffers are wiped.
   */
  async importIdentity(
    name: string,
    material: { mnemonic?: Uint8Array; nostrSecretKey?: Uint8Array },
    network: BitcoinNetwork = 'bitcoin',
  ): Promise<IdentityView> {
    if (!material.mnemonic && !material.nostrSecretKey) {
      throw new WardenError(
        'INVALID_ARGUMENT',
        'nothing to import: give a mnemonic file and/or an nsec file',
      );
    }
    return this.#addIdentity(name, network, 'identity.import', material);
  }

  async #addIdentity(
    name: string,
    network: BitcoinNetwork,
    action: string,
    material: { mnemonic?: Uint8Array; nostrSecretKey?: Uint8Array },
  ): Promise<IdentityView> {
    if (!isValidIdentityName(name)) {
      wipe(material.mnemonic, material.nostrSecretKey);
      checkIdentityName(name);
    }
    // Derive the seed before taking the lock: PBKDF2 is slow and the mnemonic buffer is wiped here.
    const seed = material.mnemonic ? seedFromMnemonicBytes(material.mnemonic) : generatedSeed();
    wipe(material.mnemonic);
    const nostr = material.nostrSecretKey ?? newSecp256k1SecretKey();
    try {
      return await this.update({ action, identity: name }, (draft) => {
        if (draft.meta.identities[name])
          throw new WardenError('IDENTITY_EXISTS', 'an identity of that name exists', { name });
        const now = this.clock.now();
        const identity: IdentityMeta = { name, createdAt: now.toISOString(), network, keys: [] };
        identity.keys.push(
          this.sealNewKey(draft, 'seed', 1, material.mnemonic ? 'imported' : 'generated', seed, network),
          this.sealNewKey(
            draft,
            'nostr',
            1,
            material.nostrSecretKey ? 'imported' : 'generated',
            nostr,
            network,
          ),
          this.sealNewKey(draft, 'lightning', 1, 'empty', new Uint8Array(0), network),
        );
        draft.meta.identities[name] = identity;
        return {
          result: identityView(identity, now),
          details: { network, seed: identity.keys[0]!.origin, nostr: identity.keys[1]!.origin },
        };
      });
    } finally {
      wipe(seed, nostr);
    }
  }

  /** A new version of the seed or Nostr key; the old one stays deprecated for the grace period. */
  async rotate(name: string, purpose: RotatablePurpose): Promise<IdentityView> {
    const material = purpose === 'seed' ? generatedSeed() : newSecp256k1SecretKey();
    try {
      const view = await this.update({ action: 'identity.rotate', identity: name }, (draft) => {
        const identity = requireIdentity(draft.meta, name);
        const now = this.clock.now();
        const current = identity.keys.filter((k) => k.purpose === purpose);
        const active = current.find((k) => k.status === 'active');
        if (active) {
          active.status = 'deprecated';
          active.deprecatedAt = now.toISOString();
          active.retiresAt = new Date(now.getTime() + DEPRECATION_GRACE_DAYS * DAY_MS).toISOString();
        }
        const version = Math.max(0, ...current.map((k) => k.version)) + 1;
        identity.keys.push(this.sealNewKey(draft, purpose, version, 'generated', material, identity.network));
        return {
          result: identityView(identity, now),
          details: { purpose, newVersion: version, deprecatedVersion: active?.version ?? null },
        };
      });
      for (const listener of this.#rotationListeners) listener(name);
      return view;
    } finally {
      wipe(material);
    }
  }

  /** Fills the identity's sealed Lightning slot (macaroon, rune or NWC URI bytes). */
  async setLightningCredential(
    name: string,
    kind: LightningCredentialKind,
    credential: Uint8Array,
  ): Promise<void> {
    try {
      // A wallet connection URI is checked now, not at the first payment (keys/nwc-uri.ts).
      if (kind === 'nwc') checkNwcUri(credential);
      await this.update({ action: CREDENTIAL_SET_ACTION, identity: name }, (draft) => {
        const identity = requireIdentity(draft.meta, name);
        const slot = identity.keys.find((k) => k.purpose === 'lightning' && k.status === 'active');
        if (slot) draft.secrets.delete(slot.secretId);
        identity.keys = identity.keys.filter((k) => k !== slot);
        const version = (slot?.version ?? 0) + 1;
        const key = this.sealNewKey(draft, 'lightning', version, 'imported', credential, identity.network);
        key.public = { kind };
        identity.keys.push(key);
        return { result: undefined, details: { kind, version } };
      });
    } finally {
      wipe(credential);
    }
  }

  /**
   * Runs `fn` with the decrypted secret of an identity's key and wipes it afterwards. `sign` needs
   * the active version; `verify` also accepts a deprecated one within its grace period.
   */
  useSecret<T>(
    name: string,
    purpose: KeyPurpose,
    mode: 'sign' | 'verify',
    fn: (secret: Uint8Array) => T,
    version?: number,
  ): T {
    this.refresh();
    const identity = this.#identityMeta(name);
    const now = this.clock.now();
    const key = identity.keys.find(
      (k) => k.purpose === purpose && (version === undefined ? k.status === 'active' : k.version === version),
    );
    const status = key ? keyStatus(key, now) : null;
    if (!key || status === 'retired' || (mode === 'sign' && status !== 'active')) {
      throw new WardenError('KEY_NOT_ACTIVE', `no ${purpose} key of this identity may be used to ${mode}`, {
        identity: name,
        purpose,
        version: version ?? null,
        status,
      });
    }
    return this.withSecret(key.secretId, fn);
  }

  auditKeys(): AuditKeyAccess {
    return auditKeyAccess(this.meta.audit, (secretId, fn) => this.withSecret(secretId, fn));
  }

  /** Derived once per unsealed handle and wiped at seal (see control-plane-key.ts). */
  #controlPlaneKey: Uint8Array | null = null;

  /** The MAC of token and policy rows; refuses with VAULT_SEALED once this handle is sealed. */
  controlPlaneMac(): ControlPlaneMac {
    return controlPlaneMac(() => {
      if (this.sealed) return null;
      this.#controlPlaneKey ??= this.withSecret(this.meta.audit.detailsSecretId, (details) =>
        deriveControlPlaneKey(details, this.vaultId),
      );
      return this.#controlPlaneKey;
    });
  }

  /**
   * The API's onion service key (see onion-service-key.ts), derived anew at each call: it is used
   * once per start, and its ADD_ONION text is the caller's to wipe.
   */
  onionServiceKey(): OnionServiceKey {
    return this.withSecret(this.meta.audit.detailsSecretId, (details) =>
      deriveOnionServiceKey(details, this.vaultId),
    );
  }

  /**
   * Runs `fn` with the wallet service key of one NWC connection (nwc-service-key.ts), derived for
   * this call and wiped when it ends.
   */
  withNwcServiceKey<T>(connectionId: string, fn: (key: NwcServiceKey) => T): T {
    const secret = this.withSecret(this.meta.audit.detailsSecretId, (details) =>
      deriveNwcServiceSecret(details, this.vaultId, connectionId),
    );
    try {
      return fn(nwcServiceKeyOf(secret));
    } finally {
      wipe(secret);
    }
  }

  override seal(): void {
    wipe(this.#controlPlaneKey);
    this.#controlPlaneKey = null;
    super.seal();
  }

  #identityMeta(name: string): IdentityMeta {
    return requireIdentity(this.meta, name);
  }
}

interface PublicOf {
  nostr: NostrPublic;
  seed: SeedPublic;
}

function requireIdentity(meta: VaultMeta, name: string): IdentityMeta {
  const identity = Object.hasOwn(meta.identities, name) ? meta.identities[name] : undefined;
  if (!identity) throw identityNotFound(meta, name);
  return identity;
}

/** Names the identity asked for and lists (the first 20 of) those that exist. */
function identityNotFound(meta: VaultMeta, name: string): WardenError {
  const names = Object.keys(meta.identities).sort();
  const shown = names.slice(0, 20).join(', ') + (names.length > 20 ? `, … (${names.length} in all)` : '');
  const existing =
    names.length === 0 ? 'there are none yet (warden identity create NAME)' : `existing: ${shown}`;
  return new WardenError(
    'IDENTITY_NOT_FOUND',
    `no identity ${JSON.stringify(name.slice(0, 64))}; ${existing}`,
    { name },
  );
}
