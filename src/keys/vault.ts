import { existsSync, readFileSync, statSync } from 'node:fs';
import type { HomeLayout } from '../config/home.ts';
import { removeFileDurably, writeFileAtomic } from '../core/atomic-file.ts';
import { constantTimeEqual, wipe } from '../core/bytes.ts';
import type { Canonical } from '../core/canonical.ts';
import { type Clock, DAY_MS } from '../core/clock.ts';
import { WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { type AuditKeyAccess, auditKeyAccess, newAuditKeys } from './audit-keys.ts';
import {
  type ContainerHeader,
  encodeContainer,
  newHeader,
  openContainer,
  openSecret,
  reopenContainer,
  type SealedContainer,
} from './container.ts';
import type { BitcoinNetwork } from './derive.ts';
import { DEFAULT_KDF, deriveKeys, type KdfParams } from './kdf.ts';
import { generatedSeed, newKeyVersion } from './key-version.ts';
import { withFileLock } from './lock.ts';
import { seedFromMnemonicBytes } from './mnemonic.ts';
import {
  DEPRECATION_GRACE_DAYS,
  type IdentityMeta,
  isValidIdentityName,
  type KeyOrigin,
  type KeyPurpose,
  type KeyVersion,
  keyStatus,
  type LightningCredentialKind,
  rotationIsDue,
  type VaultMeta,
} from './model.ts';
import { newSecp256k1SecretKey } from './random.ts';
import { resealUnder } from './reseal.ts';
import type { UnsealThrottle } from './throttle.ts';
import { type IdentityView, identityView } from './view.ts';

export type { AuditKeyAccess } from './audit-keys.ts';
export type KdfSettings = Omit<KdfParams, 'alg' | 'salt'>;

/** Every change to the keystore is reported here first; if the sink throws, nothing is written. */
export interface VaultEvent {
  action: string;
  identity: string | null;
  details: Canonical;
}
export type AuditSink = (event: VaultEvent) => Promise<void>;

interface Draft {
  meta: VaultMeta;
  secrets: Map<string, Uint8Array>;
}

/**
 * An unsealed vault: the key-encryption key in memory, the metadata decrypted, every secret still
 * sealed. A secret is decrypted only inside `useSecret`/`withSigningKey`, then wiped.
 */
export class Vault {
  #kek: Uint8Array | null;
  #header: ContainerHeader;
  #meta: VaultMeta;
  #secrets: Map<string, Uint8Array>;
  #sink: AuditSink | null = null;
  /** mtime, size and inode of the keystore file as last read: another process may rewrite it. */
  #stamp = '';
  readonly layout: HomeLayout;
  readonly clock: Clock;

  private constructor(layout: HomeLayout, clock: Clock, kek: Uint8Array, c: SealedContainer<VaultMeta>) {
    this.layout = layout;
    this.clock = clock;
    this.#kek = kek;
    this.#header = c.header;
    this.#meta = c.meta;
    this.#secrets = c.secrets;
  }

  static exists(layout: HomeLayout): boolean {
    return existsSync(layout.keystore);
  }

  /** A new vault in memory, with its audit keys. Nothing is written until `commitNew`. */
  static async create(
    layout: HomeLayout,
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
    layout: HomeLayout,
    passphrase: Uint8Array,
    clock: Clock,
    throttle?: UnsealThrottle,
  ): Promise<{ vault: Vault; failedAttempts: number }> {
    const bytes = readKeystore(layout);
    await throttle?.beforeAttempt();
    try {
      const { container, kek } = await openContainer<VaultMeta>(bytes, passphrase, 'warden-keystore');
      const failedAttempts = throttle?.recordSuccess() ?? 0;
      return { vault: new Vault(layout, clock, kek, container), failedAttempts };
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
    layout: HomeLayout,
    backup: Uint8Array,
    backupPassphrase: Uint8Array,
    newPassphrase: Uint8Array,
    clock: Clock,
    kdf: KdfSettings = DEFAULT_KDF,
  ): Promise<Vault> {
    const opened = await openContainer<VaultMeta>(backup, backupPassphrase, 'warden-backup');
    try {
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
      return new Vault(layout, clock, kek, { header, meta: opened.container.meta, secrets });
    } finally {
      wipe(opened.kek);
    }
  }

  setAuditSink(sink: AuditSink): void {
    this.#sink = sink;
  }

  get vaultId(): string {
    return this.#meta.vaultId;
  }

  get createdAt(): string {
    return this.#meta.createdAt;
  }

  get kdf(): KdfSettings {
    const { memoryKiB, iterations, parallelism } = this.#header.kdf;
    return { memoryKiB, iterations, parallelism };
  }

  get sealed(): boolean {
    return this.#kek === null;
  }

  /**
   * Throws VAULT_SEALED unless this handle is unsealed, after a cheap check that no other process
   * re-sealed the keystore under a new passphrase (which seals this handle).
   */
  requireUnsealed(): void {
    this.#refresh();
    this.#requireKek();
  }

  /** Wipes the key-encryption key. The object is unusable afterwards. */
  seal(): void {
    wipe(this.#kek);
    this.#kek = null;
  }

  listIdentities(): IdentityView[] {
    this.#refresh();
    const now = this.clock.now();
    return Object.values(this.#meta.identities)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((i) => identityView(i, now));
  }

  getIdentity(name: string): IdentityView {
    this.#refresh();
    return identityView(this.#identityMeta(name), this.clock.now());
  }

  /** Keys whose rotation date has passed, for `warden status`. */
  rotationDue(): { identity: string; purpose: KeyPurpose; version: number; rotationDue: string }[] {
    const now = this.clock.now();
    return Object.values(this.#meta.identities).flatMap((i) =>
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

  /** Writes a vault made by `create` or `fromBackup`; refuses if a keystore already exists. */
  async commitNew(action: 'vault.init' | 'vault.restore'): Promise<void> {
    await withFileLock(this.layout.keystoreLock, async () => {
      if (Vault.exists(this.layout))
        throw new WardenError('VAULT_EXISTS', 'a vault already exists in this home');
      await this.#persist(
        { meta: this.#meta, secrets: this.#secrets },
        {
          action,
          identity: null,
          details: { vaultId: this.#meta.vaultId, identities: Object.keys(this.#meta.identities).length },
        },
      );
    });
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
      throw new WardenError('INVALID_NAME', 'identity names are 1-63 characters: a-z, 0-9, - and _', {
        name,
      });
    }
    // Derive the seed before taking the lock: PBKDF2 is slow and the mnemonic buffer is wiped here.
    const seed = material.mnemonic ? seedFromMnemonicBytes(material.mnemonic) : generatedSeed();
    wipe(material.mnemonic);
    const nostr = material.nostrSecretKey ?? newSecp256k1SecretKey();
    try {
      return await this.#update({ action, identity: name }, (draft) => {
        if (draft.meta.identities[name])
          throw new WardenError('IDENTITY_EXISTS', 'an identity of that name exists', { name });
        const now = this.clock.now();
        const identity: IdentityMeta = { name, createdAt: now.toISOString(), network, keys: [] };
        identity.keys.push(
          this.#newKey(draft, 'seed', 1, material.mnemonic ? 'imported' : 'generated', seed, network),
          this.#newKey(draft, 'nostr', 1, material.nostrSecretKey ? 'imported' : 'generated', nostr, network),
          this.#newKey(draft, 'lightning', 1, 'empty', new Uint8Array(0), network),
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
  async rotate(name: string, purpose: 'seed' | 'nostr'): Promise<IdentityView> {
    const material = purpose === 'seed' ? generatedSeed() : newSecp256k1SecretKey();
    try {
      return await this.#update({ action: 'identity.rotate', identity: name }, (draft) => {
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
        identity.keys.push(this.#newKey(draft, purpose, version, 'generated', material, identity.network));
        return {
          result: identityView(identity, now),
          details: { purpose, newVersion: version, deprecatedVersion: active?.version ?? null },
        };
      });
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
      await this.#update({ action: 'identity.lightning.set', identity: name }, (draft) => {
        const identity = requireIdentity(draft.meta, name);
        const slot = identity.keys.find((k) => k.purpose === 'lightning' && k.status === 'active');
        if (slot) draft.secrets.delete(slot.secretId);
        identity.keys = identity.keys.filter((k) => k !== slot);
        const version = (slot?.version ?? 0) + 1;
        const key = this.#newKey(draft, 'lightning', version, 'imported', credential, identity.network);
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
    this.#refresh();
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
    return this.#withSecret(key.secretId, fn);
  }

  auditKeys(): AuditKeyAccess {
    return auditKeyAccess(this.#meta.audit, (secretId, fn) => this.#withSecret(secretId, fn));
  }

  /** Writes an encrypted backup of every key under a separate passphrase. Refuses to overwrite. */
  async writeBackup(
    outPath: string,
    backupPassphrase: Uint8Array,
    kdf: KdfSettings = this.kdf,
  ): Promise<void> {
    if (existsSync(outPath))
      throw new WardenError('INVALID_ARGUMENT', 'the backup file already exists', { path: outPath });
    const kek = this.#requireKek();
    if (await this.#opensVault(backupPassphrase)) {
      throw new WardenError(
        'INVALID_ARGUMENT',
        'the backup passphrase must differ from the vault passphrase',
      );
    }
    const backup = await resealUnder(
      { kind: 'warden-keystore', kek, vaultId: this.#meta.vaultId, secrets: this.#secrets },
      'warden-backup',
      backupPassphrase,
      kdf,
    );
    try {
      const bytes = encodeContainer({ ...backup, meta: this.#meta }, backup.kek);
      await this.#audit({
        action: 'vault.backup',
        identity: null,
        details: { identities: Object.keys(this.#meta.identities).length, secrets: backup.secrets.size },
      });
      writeFileAtomic(outPath, bytes);
    } finally {
      wipe(backup.kek);
    }
  }

  /**
   * Re-seals every secret under a key derived from a new passphrase, with a fresh salt and the
   * given KDF settings (raising them is how an old vault gets stronger ones). The previous-version
   * copy is removed: a passphrase changed because it leaked must not still open a file Warden
   * keeps (deleting does not scrub the disk blocks; the README says so). Backups keep their own
   * passphrase. Processes holding the vault unsealed under the old passphrase seal themselves on
   * their next read (VAULT_SEALED).
   */
  async changePassphrase(newPassphrase: Uint8Array, kdf: KdfSettings = this.kdf): Promise<void> {
    const oldKek = this.#requireKek();
    if (await this.#opensVault(newPassphrase)) {
      throw new WardenError('INVALID_ARGUMENT', 'the new passphrase must differ from the current one');
    }
    await withFileLock(this.layout.keystoreLock, async () => {
      const current = this.#readCurrent(oldKek);
      const next = await resealUnder(
        { kind: 'warden-keystore', kek: oldKek, vaultId: this.#meta.vaultId, secrets: current.secrets },
        'warden-keystore',
        newPassphrase,
        kdf,
      );
      try {
        await this.#persist(
          { meta: current.meta, secrets: next.secrets },
          { action: 'vault.passphrase.change', identity: null, details: { kdf: { ...kdf } } },
          { header: next.header, kek: next.kek },
        );
      } catch (err) {
        wipe(next.kek);
        throw err;
      }
      this.#header = next.header;
      this.#kek = next.kek;
      wipe(oldKek);
      try {
        removeFileDurably(this.layout.keystorePrevious);
      } catch (cause) {
        throw new WardenError(
          'KEYSTORE_WRITE_FAILED',
          'the passphrase was changed, but the previous keystore version (sealed under the old passphrase) ' +
            'could not be removed: delete it by hand',
          { path: this.layout.keystorePrevious },
          { cause },
        );
      }
    });
  }

  /** Whether a passphrase is this vault's own (compares derived verifiers, never passphrases). */
  async #opensVault(candidate: Uint8Array): Promise<boolean> {
    const keys = await deriveKeys(candidate, this.#header.kdf);
    const same = constantTimeEqual(keys.verifier, this.#header.verifier);
    wipe(keys.kek, keys.verifier);
    return same;
  }

  /**
   * Re-reads the keystore if another process (the CLI while the server runs) changed it, so a
   * rotation or a new identity takes effect at once. A cheap stat when nothing changed.
   */
  #refresh(): void {
    if (!this.#kek) return;
    let stamp: string;
    try {
      const st = statSync(this.layout.keystore);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return;
    }
    if (stamp === this.#stamp) return;
    const current = this.#readCurrent(this.#kek);
    this.#meta = current.meta;
    this.#secrets = current.secrets;
    this.#stamp = stamp;
  }

  /** The keystore as on disk now. Re-sealed elsewhere under a new passphrase: seal, and say so. */
  #readCurrent(kek: Uint8Array): SealedContainer<VaultMeta> {
    try {
      return reopenContainer<VaultMeta>(
        readKeystore(this.layout),
        kek,
        this.#header.verifier,
        'warden-keystore',
      );
    } catch (err) {
      if (err instanceof WardenError && err.code === 'VAULT_SEALED') this.seal();
      throw err;
    }
  }

  #identityMeta(name: string): IdentityMeta {
    return requireIdentity(this.#meta, name);
  }

  #requireKek(): Uint8Array {
    if (!this.#kek) throw new WardenError('VAULT_SEALED', 'the vault is sealed');
    return this.#kek;
  }

  #withSecret<T>(secretId: string, fn: (secret: Uint8Array) => T): T {
    const blob = this.#secrets.get(secretId);
    if (!blob) throw new WardenError('KEYSTORE_CORRUPT', 'a sealed secret is missing', { secretId });
    const secret = openSecret(this.#requireKek(), this.#meta.vaultId, secretId, blob);
    try {
      const result = fn(secret);
      if (result instanceof Promise) throw new Error('useSecret callbacks must be synchronous');
      return result;
    } finally {
      wipe(secret);
    }
  }

  #newKey(
    draft: Draft,
    purpose: KeyPurpose,
    version: number,
    origin: KeyOrigin,
    secret: Uint8Array,
    network: BitcoinNetwork,
  ): KeyVersion {
    return newKeyVersion(draft.secrets, this.#requireKek(), this.#meta.vaultId, {
      purpose,
      version,
      origin,
      secret,
      network,
      now: this.clock.now(),
    });
  }

  /**
   * Read-modify-write under the keystore lock: re-read the file (another process may have changed
   * it), apply the change to a copy, audit it, then write atomically. Audit failure → no write.
   */
  async #update<R>(
    event: { action: string; identity: string | null },
    mutate: (draft: Draft) => { result: R; details: Canonical },
  ): Promise<R> {
    const kek = this.#requireKek();
    return withFileLock(this.layout.keystoreLock, async () => {
      const current = this.#readCurrent(kek);
      const draft: Draft = { meta: structuredClone(current.meta), secrets: new Map(current.secrets) };
      this.#meta = current.meta;
      this.#secrets = current.secrets;
      const { result, details } = mutate(draft);
      await this.#persist(draft, { ...event, details });
      return result;
    });
  }

  /**
   * Audits, then writes the draft atomically, keeping the replaced file as the previous version.
   * With `resealed` (a new passphrase) the draft is sealed under it, and the replaced file is not
   * kept: it opens with the old passphrase.
   */
  async #persist(
    draft: Draft,
    event: VaultEvent,
    resealed?: { header: ContainerHeader; kek: Uint8Array },
  ): Promise<void> {
    const bytes = encodeContainer(
      { header: resealed?.header ?? this.#header, meta: draft.meta, secrets: draft.secrets },
      resealed?.kek ?? this.#requireKek(),
    );
    await this.#audit(event);
    try {
      writeFileAtomic(
        this.layout.keystore,
        bytes,
        resealed ? {} : { previousPath: this.layout.keystorePrevious },
      );
    } catch (cause) {
      throw new WardenError(
        'KEYSTORE_WRITE_FAILED',
        'writing the keystore failed; the previous version is intact',
        {},
        { cause },
      );
    }
    this.#meta = draft.meta;
    this.#secrets = draft.secrets;
  }

  async #audit(event: VaultEvent): Promise<void> {
    if (!this.#sink)
      throw new WardenError('AUDIT_APPEND_FAILED', 'no audit log is attached; refusing to change the vault');
    await this.#sink(event);
  }
}

function readKeystore(layout: HomeLayout): Uint8Array {
  if (!existsSync(layout.keystore)) {
    throw new WardenError('VAULT_NOT_INITIALIZED', 'no vault in this home; run `warden init`', {
      home: layout.dir,
    });
  }
  return readFileSync(layout.keystore);
}

function requireIdentity(meta: VaultMeta, name: string): IdentityMeta {
  const identity = Object.hasOwn(meta.identities, name) ? meta.identities[name] : undefined;
  if (!identity) throw new WardenError('IDENTITY_NOT_FOUND', 'no identity of that name', { name });
  return identity;
}
