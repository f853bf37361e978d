import { existsSync, readFileSync, statSync } from 'node:fs';
import { removeFileDurably, writeFileAtomic } from '../core/atomic-file.ts';
import { constantTimeEqual, wipe } from '../core/bytes.ts';
import type { Canonical } from '../core/canonical.ts';
import type { Clock } from '../core/clock.ts';
import { WardenError } from '../core/errors.ts';
import { withFileLock } from '../store/file-lock.ts';
import {
  type ContainerHeader,
  checkBackupDatabaseSize,
  encodeContainer,
  openSecret,
  parseContainer,
  reopenContainer,
  type SealedContainer,
  sealDatabase,
} from './container.ts';
import { CONTROL_PLANE_MARKER } from './control-plane-key.ts';
import type { BitcoinNetwork } from './derive.ts';
import { deriveKeys, type KdfParams } from './kdf.ts';
import { newKeyVersion } from './key-version.ts';
import type { KeyOrigin, KeyPurpose, KeyVersion, VaultMeta } from './model.ts';
import { resealUnder } from './reseal.ts';

export type KdfSettings = Omit<KdfParams, 'alg' | 'salt'>;

/** Where the keystore lives: the part of the home layout (config/) this room needs. */
export interface KeystorePaths {
  readonly dir: string;
  readonly keystore: string;
  readonly keystorePrevious: string;
  readonly keystoreLock: string;
}

/** Every change to the keystore is reported here first; if the sink throws, nothing is written. */
export interface VaultEvent {
  action: string;
  identity: string | null;
  details: Canonical;
}
export type AuditSink = (event: VaultEvent) => Promise<void>;

/** A copy of the keystore's contents being changed under the lock (see `update`). */
export interface Draft {
  meta: VaultMeta;
  secrets: Map<string, Uint8Array>;
}

/**
 * The sealed keystore file as one unsealed handle sees it: the key-encryption key in memory, the
 * metadata decrypted, every secret still sealed. It owns what touches the file and the keys that
 * seal it: reading (and noticing other processes' writes), locked read-modify-write, audit before
 * write, backup and passphrase change. `Vault` builds identities and key use on top of it.
 */
export class SealedKeystore {
  #kek: Uint8Array | null;
  #header: ContainerHeader;
  #meta: VaultMeta;
  #secrets: Map<string, Uint8Array>;
  #sink: AuditSink | null = null;
  /** mtime, size and inode of the keystore file as last read: another process may rewrite it. */
  #stamp = '';
  /** Whether this handle's keystore exists on disk (read from it, or written once). */
  #onDisk: boolean;
  /**
   * Secrets opened during the current event-loop turn, wiped when it ends (see `withSecret`), and
   * whether the keystore file was already checked in it (see `refresh`).
   */
  #turn: { secrets: Map<string, Uint8Array>; checked: boolean } | null = null;
  readonly layout: KeystorePaths;
  readonly clock: Clock;

  protected constructor(layout: KeystorePaths, clock: Clock, kek: Uint8Array, c: SealedContainer<VaultMeta>) {
    this.layout = layout;
    this.clock = clock;
    this.#kek = kek;
    this.#header = c.header;
    this.#meta = c.meta;
    this.#secrets = c.secrets;
    this.#onDisk = existsSync(layout.keystore);
  }

  static exists(layout: KeystorePaths): boolean {
    return existsSync(layout.keystore);
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
    this.refresh();
    this.#requireKek();
  }

  /** Wipes the key-encryption key. The object is unusable afterwards. */
  seal(): void {
    this.#endTurn();
    wipe(this.#kek);
    this.#kek = null;
  }

  /** Writes a vault made by `create` or `fromBackup`; refuses if a keystore already exists. */
  async commitNew(action: 'vault.init' | 'vault.restore'): Promise<void> {
    await withFileLock(this.layout.keystoreLock, async () => {
      if (SealedKeystore.exists(this.layout))
        throw new WardenError('VAULT_EXISTS', 'a vault already exists in this home');
      await this.#persist(
        { meta: this.#meta, secrets: this.#secrets },
        {
          action,
          identity: null,
          details: {
            vaultId: this.#meta.vaultId,
            identities: Object.keys(this.#meta.identities).length,
            controlPlane: CONTROL_PLANE_MARKER,
          },
        },
      );
    });
  }

  /**
   * Writes an encrypted backup of every key under a separate passphrase, with the database
   * snapshot sealed beside them when given. Refuses to overwrite.
   */
  async writeBackup(
    outPath: string,
    backupPassphrase: Uint8Array,
    options: { kdf?: KdfSettings; database?: Uint8Array } = {},
  ): Promise<void> {
    const kdf = options.kdf ?? this.kdf;
    if (existsSync(outPath))
      throw new WardenError('INVALID_ARGUMENT', 'the backup file already exists', { path: outPath });
    if (options.database) checkBackupDatabaseSize(options.database.length);
    this.refresh(); // another process may have added identities since this handle last read
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
      const database = options.database
        ? sealDatabase(backup.kek, backup.header, options.database)
        : undefined;
      const bytes = encodeContainer(
        { ...backup, meta: this.#meta, ...(database ? { database } : {}) },
        backup.kek,
      );
      await this.#audit({
        action: 'vault.backup',
        identity: null,
        details: {
          identities: Object.keys(this.#meta.identities).length,
          secrets: backup.secrets.size,
          databaseBytes: options.database?.length ?? 0,
        },
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
      if (this.#kek !== oldKek) {
        // Sealed while the change was being written: stay sealed, keep no key.
        wipe(next.kek);
        throw new WardenError('VAULT_SEALED', 'the vault was sealed during the passphrase change');
      }
      this.#header = next.header;
      this.#kek = next.kek;
      wipe(oldKek);
    });
  }

  /**
   * A previous version sealed under another passphrase is what an interrupted passphrase change
   * leaves behind (a crash between removing it and writing the new keystore cannot, but an older
   * release or a copy put back by hand can). The old passphrase must open nothing: it goes.
   */
  protected async dropStalePrevious(): Promise<void> {
    if (!existsSync(this.layout.keystorePrevious)) return;
    // Under the lock: a writer in another process may be linking the previous version right now.
    // Best effort, as below: a busy lock only postpones it to the next unseal.
    await withFileLock(this.layout.keystoreLock, async () => this.#dropStalePreviousLocked(), 2_000).catch(
      () => undefined,
    );
  }

  #dropStalePreviousLocked(): void {
    const previous = this.layout.keystorePrevious;
    if (!existsSync(previous)) return;
    let verifier: Uint8Array;
    try {
      verifier = parseContainer(readFileSync(previous), 'warden-keystore').header.verifier;
    } catch {
      return; // damaged: left for the operator, who may need it to recover
    }
    if (constantTimeEqual(verifier, this.#header.verifier)) return;
    try {
      this.#removePreviousVersions();
    } catch {
      // Best effort at unseal: refusing to unseal would not remove the file either. The next
      // unseal tries again.
    }
  }

  #removePreviousVersions(): void {
    const previous = this.layout.keystorePrevious;
    try {
      // The .tmp is the hard link an interrupted ordinary write may have left.
      removeFileDurably(`${previous}.tmp`);
      removeFileDurably(previous);
    } catch (cause) {
      throw new WardenError(
        'KEYSTORE_WRITE_FAILED',
        'the previous keystore version could not be removed; the keystore was not changed',
        { path: previous },
        { cause },
      );
    }
  }

  /** Whether a passphrase is this vault's own (compares derived verifiers, never passphrases). */
  async #opensVault(candidate: Uint8Array): Promise<boolean> {
    const keys = await deriveKeys(candidate, this.#header.kdf);
    const same = constantTimeEqual(keys.verifier, this.#header.verifier);
    wipe(keys.kek, keys.verifier);
    return same;
  }

  /** The metadata as last read (callers that must see other processes' writes call `refresh`). */
  protected get meta(): VaultMeta {
    return this.#meta;
  }

  /**
   * Re-reads the keystore if another process (the CLI while the server runs) changed it, so a
   * rotation or a new identity takes effect at once. A cheap stat when nothing changed.
   */
  protected refresh(): void {
    if (!this.#kek) return;
    // Within one synchronous run no other process's write can be ordered anyway: one stat per turn.
    const turn = this.#currentTurn();
    if (turn.checked) return;
    turn.checked = true;
    let stamp: string;
    try {
      const st = statSync(this.layout.keystore);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (cause) {
      // Not written yet (a vault being created or restored) is fine; gone afterwards is not.
      if (!this.#onDisk) return;
      throw new WardenError('KEYSTORE_CORRUPT', 'the keystore file is gone or unreadable', {}, { cause });
    }
    if (stamp === this.#stamp) return;
    const current = this.#readCurrent(this.#kek);
    const previous = this.#meta;
    this.#meta = current.meta;
    this.#secrets = current.secrets;
    this.#stamp = stamp;
    this.reloaded(previous, current.meta);
  }

  /** Called after `refresh` read what another process wrote; `previous` is what this handle had. */
  protected reloaded(_previous: VaultMeta, _current: VaultMeta): void {}

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

  #requireKek(): Uint8Array {
    if (!this.#kek) throw new WardenError('VAULT_SEALED', 'the vault is sealed');
    return this.#kek;
  }

  /**
   * Runs `fn` with one decrypted secret. A secret is opened once per event-loop turn and wiped when
   * the turn ends: a group commit signs and audits a whole batch in one synchronous run, and
   * opening the same key for each of its requests would cost as much as the signatures. It never
   * outlives the run (nothing else runs in between) and is wiped at once when the handle seals.
   */
  protected withSecret<T>(secretId: string, fn: (secret: Uint8Array) => T): T {
    const turn = this.#currentTurn();
    let secret = turn.secrets.get(secretId);
    if (!secret) {
      const blob = this.#secrets.get(secretId);
      if (!blob) throw new WardenError('KEYSTORE_CORRUPT', 'a sealed secret is missing', { secretId });
      secret = openSecret(this.#requireKek(), this.#meta.vaultId, secretId, blob);
      turn.secrets.set(secretId, secret);
    }
    const result = fn(secret);
    if (result instanceof Promise) {
      // An asynchronous callback would hold the secret past the turn: refuse, and wipe it now.
      this.#endTurn();
      throw new Error('useSecret callbacks must be synchronous');
    }
    return result;
  }

  #currentTurn(): { secrets: Map<string, Uint8Array>; checked: boolean } {
    if (this.#turn) return this.#turn;
    const turn = { secrets: new Map<string, Uint8Array>(), checked: false };
    this.#turn = turn;
    // Microtasks run once the current synchronous run has returned, before any other I/O callback.
    queueMicrotask(() => {
      if (this.#turn === turn) this.#endTurn();
    });
    return turn;
  }

  #endTurn(): void {
    if (!this.#turn) return;
    for (const secret of this.#turn.secrets.values()) wipe(secret);
    this.#turn = null;
  }

  protected sealNewKey(
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
  protected async update<R>(
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
   * With `resealed` (a new passphrase) the draft is sealed under it, and neither the replaced file
   * nor the previous version is kept: they open with the old passphrase.
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
    // Copies the old passphrase opens go before the re-sealed file is written: until its rename
    // the keystore itself is the durable copy, and after it nothing under that passphrase is left.
    if (resealed) this.#removePreviousVersions();
    try {
      writeFileAtomic(
        this.layout.keystore,
        bytes,
        resealed ? {} : { previousPath: this.layout.keystorePrevious },
      );
    } catch (cause) {
      throw new WardenError(
        'KEYSTORE_WRITE_FAILED',
        resealed
          ? 'writing the re-sealed keystore failed: it opens with the old passphrase, or with the new ' +
              'one if the failure came after the rename (the previous copy was removed first)'
          : 'writing the keystore failed; the previous version is intact',
        {},
        { cause },
      );
    }
    this.#meta = draft.meta;
    this.#secrets = draft.secrets;
    this.#onDisk = true;
  }

  async #audit(event: VaultEvent): Promise<void> {
    if (!this.#sink)
      throw new WardenError('AUDIT_APPEND_FAILED', 'no audit log is attached; refusing to change the vault');
    await this.#sink(event);
  }
}

export function readKeystore(layout: KeystorePaths): Uint8Array {
  if (!existsSync(layout.keystore)) {
    throw new WardenError('VAULT_NOT_INITIALIZED', 'no vault in this home; run `warden init`', {
      home: layout.dir,
    });
  }
  return readFileSync(layout.keystore);
}
