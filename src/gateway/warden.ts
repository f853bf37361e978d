import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Logger } from 'pino';
import { appendAudit } from '../audit/append.ts';
import { writeCheckpoint } from '../audit/checkpoint.ts';
import { auditRecord } from '../audit/entry.ts';
import { readAudit } from '../audit/show.ts';
import { type VerifyOptions, type VerifyResult, verifyAudit } from '../audit/verify.ts';
import { verifyAuditTail } from '../audit/verify-tail.ts';
import { ensureHome, type HomeLayout, homeLayout } from '../config/home.ts';
import type { Canonical } from '../core/canonical.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { isWardenError, WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { createLogger } from '../core/logger.ts';
import type { BitcoinNetwork } from '../keys/derive.ts';
import { type ImportFiles, importMaterial } from '../keys/import.ts';
import { CREDENTIAL_SET_ACTION, type LightningCredentialKind, type RotatablePurpose } from '../keys/model.ts';
import { UnsealThrottle } from '../keys/throttle.ts';
import { type KdfSettings, Vault, type VaultEvent } from '../keys/vault.ts';
import type { IdentityView } from '../keys/view.ts';
import { PROTOCOL_MIGRATIONS } from '../protocols/migrations.ts';
import { restoreDatabaseFile, snapshotDatabase } from '../store/snapshot.ts';
import { openSqliteStore, type Store } from '../store/store.ts';
import { auditPublicKeyFromStore, rememberAuditPublicKey } from './audit-key.ts';
import { attachControlPlane, type ControlPlane, makeControlPlane } from './control-plane.ts';
import { adoptLegacyRows, rolledBackRows } from './control-plane-adopt.ts';
import { recordedOnion } from './onion.ts';
import { anchorFromSnapshot, keystoreOnlyReport, type RestoreReport, settleRestored } from './restore.ts';
import { serverRunning } from './server-slot.ts';

export interface WardenOptions {
  home: string;
  /** Who acts, as written to the audit log (e.g. `cli:alice`). */
  actor: string;
  clock?: Clock;
  /** A logger to use; without one, Warden logs to `warden.log` in its home at `logLevel`. */
  logger?: Logger;
  logLevel?: string;
  kdf?: KdfSettings;
}

/**
 * The one place that joins the rooms for vault operations: every change goes keystore → audit
 * (first, fail closed) → write, and every attempt, including refused ones, leaves an audit record.
 */
export class Warden {
  readonly layout: HomeLayout;
  readonly store: Store;
  readonly vault: Vault;
  readonly #opts: Required<Pick<WardenOptions, 'actor' | 'clock' | 'logger'>>;
  /** The MAC of token and policy rows, attached to this store for the readers (control-plane.ts). */
  readonly controlPlane: ControlPlane;
  readonly #detachControlPlane: () => void;
  /** Set on a Warden made by `restore`: what came back and what did not. */
  restoreReport: RestoreReport | null = null;

  private constructor(layout: HomeLayout, store: Store, vault: Vault, opts: WardenOptions) {
    this.layout = layout;
    this.store = store;
    this.vault = vault;
    this.#opts = {
      actor: opts.actor,
      clock: opts.clock ?? systemClock,
      logger: opts.logger ?? createLogger({ destination: layout.log, level: opts.logLevel ?? 'info' }),
    };
    this.controlPlane = makeControlPlane(vault.controlPlaneMac(), this.#opts.logger, {
      db: store.db,
      keyring: vault.auditKeys(),
    });
    this.#detachControlPlane = attachControlPlane(
      store.db,
      bytesToHex(vault.auditKeys().publicKey),
      this.controlPlane,
    );
  }

  /** Whether a vault exists in `home`, without creating or touching anything. */
  static exists(home: string): boolean {
    return Vault.exists(homeLayout(home));
  }

  static async init(opts: WardenOptions, passphrase: Uint8Array): Promise<Warden> {
    const layout = ensureHome(opts.home);
    if (Vault.exists(layout))
      throw new WardenError('VAULT_EXISTS', 'a vault already exists in this home', { home: layout.dir });
    const vault = await Vault.create(layout, passphrase, opts.clock ?? systemClock, opts.kdf);
    return Warden.#commitNew(layout, vault, opts, 'vault.init');
  }

  /**
   * Restores keys and, from a backup that holds one, the whole database (policies, tokens, ledger,
   * requests, audit log) into an empty home; `restoreReport` says what did not come back.
   */
  static async restore(
    opts: WardenOptions,
    backup: Uint8Array,
    backupPassphrase: Uint8Array,
    newPassphrase: Uint8Array,
  ): Promise<Warden> {
    const layout = ensureHome(opts.home);
    if (Vault.exists(layout))
      throw new WardenError('VAULT_EXISTS', 'a vault already exists in this home', { home: layout.dir });
    const before = new Set(
      restoreFiles(layout).filter((f) => existsSync(f) && (f !== layout.database || statSync(f).size > 0)),
    );
    const { vault, database } = await Vault.openBackup(
      layout,
      backup,
      backupPassphrase,
      newPassphrase,
      opts.clock ?? systemClock,
      opts.kdf,
    );
    try {
      if (database) restoreDatabaseFile(layout.database, database);
    } catch (err) {
      vault.seal();
      throw err;
    }
    const progress = { keystoreOurs: false };
    try {
      return await Warden.#commitNew(layout, vault, opts, 'vault.restore', database !== null, progress);
    } catch (err) {
      // Everything this restore wrote goes (the home had no keystore and no database: checked
      // above), so a failure leaves a home a restore can start again in, never keys without
      // their database (which `start` would open empty: policies and tokens silently gone).
      // The keystore goes only if this restore wrote it, not one another process got in first.
      for (const f of restoreFiles(layout)) {
        const ours = (database !== null && f.startsWith(layout.database)) || !before.has(f);
        const keystore = f === layout.keystore || f === layout.keystorePrevious;
        if (ours && (!keystore || progress.keystoreOurs)) rmSync(f, { force: true });
      }
      throw err;
    }
  }

  static async #commitNew(
    layout: HomeLayout,
    vault: Vault,
    opts: WardenOptions,
    action: 'vault.init' | 'vault.restore',
    withDatabase = false,
    progress: { keystoreOurs: boolean } = { keystoreOurs: false },
  ) {
    const store = await openSqliteStore(layout.database, PROTOCOL_MIGRATIONS);
    const warden = new Warden(layout, store, vault, opts);
    try {
      await rememberAuditPublicKey(store, vault.auditKeys());
      if (withDatabase) await anchorFromSnapshot(store, layout.auditHead);
      await warden.#run(action, null, async () => {
        try {
          await vault.commitNew(action);
          progress.keystoreOurs = true;
        } catch (err) {
          // VAULT_EXISTS: another process wrote a keystore first; any other failure is ours.
          progress.keystoreOurs = !isWardenError(err, 'VAULT_EXISTS');
          throw err;
        }
      });
      if (action === 'vault.restore') await warden.#afterRestore(withDatabase);
      await warden.controlPlane.witness(store.db, true);
      return warden;
    } catch (err) {
      warden.#detachControlPlane();
      await store.close();
      vault.seal();
      throw err;
    }
  }

  /** Settles what was in flight in the snapshot, adopts legacy rows, and audits the outcome. */
  async #afterRestore(withDatabase: boolean): Promise<void> {
    const report = withDatabase ? await settleRestored(this.store, this.clock.now()) : keystoreOnlyReport();
    await this.#adoptLegacyRows();
    this.restoreReport = report;
    await this.#record('vault.restore.database', null, 'ok', {
      database: report.database,
      ...report.counts,
      executingToUnknown: report.executingToUnknown,
      heldDenied: report.heldDenied,
    });
    this.logger.warn({ notRestored: report.notRestored }, 'restore: not everything comes back');
  }

  /** Rows from before control-plane MACs, adopted once where the audit log vouches for them. */
  async #adoptLegacyRows(): Promise<void> {
    const result = await adoptLegacyRows(
      this.store,
      this.controlPlane,
      this.vault.auditKeys(),
      this.clock,
      this.actor,
    );
    if (result && result.refused.length > 0) {
      this.logger.error(
        { code: 'CONTROL_PLANE_TAMPERED', refused: result.refused },
        'rows without a MAC that the audit log does not vouch for stay refused',
      );
    } else if (result) {
      this.logger.warn({ adopted: result.adopted }, 'control-plane rows from an older version were MACed');
    }
  }

  static async unseal(opts: WardenOptions, passphrase: Uint8Array): Promise<Warden> {
    const layout = ensureHome(opts.home);
    const clock = opts.clock ?? systemClock;
    const { vault, failedAttempts } = await Vault.unseal(
      layout,
      passphrase,
      clock,
      new UnsealThrottle(layout.unsealThrottle, clock),
    );
    const store = await openSqliteStore(layout.database, PROTOCOL_MIGRATIONS);
    const warden = new Warden(layout, store, vault, opts);
    try {
      await rememberAuditPublicKey(store, vault.auditKeys());
      // Failed attempts are not written when they happen (a wrong passphrase changes nothing);
      // the next successful unseal records how many there were.
      await warden.#record('vault.unseal', null, 'ok', { failedAttemptsSinceLastUnseal: failedAttempts });
      await warden.#adoptLegacyRows();
      // Revocations and the current policies, from the audit log (control-plane.ts).
      await warden.controlPlane.witness(store.db, true);
      return warden;
    } catch (err) {
      await warden.close();
      throw err;
    }
  }

  get clock(): Clock {
    return this.#opts.clock;
  }

  get logger(): Logger {
    return this.#opts.logger;
  }

  get actor(): string {
    return this.#opts.actor;
  }

  listIdentities(): IdentityView[] {
    return this.vault.listIdentities();
  }

  showIdentity(name: string): IdentityView {
    return this.vault.getIdentity(name);
  }

  createIdentity(name: string, network?: BitcoinNetwork): Promise<IdentityView> {
    return this.#run('identity.create', name, () => this.vault.createIdentity(name, network));
  }

  importIdentity(name: string, files: ImportFiles, network?: BitcoinNetwork): Promise<IdentityView> {
    return this.#run('identity.import', name, () =>
      this.vault.importIdentity(name, importMaterial(files), network),
    );
  }

  rotate(name: string, purpose: RotatablePurpose): Promise<IdentityView> {
    return this.#run('identity.rotate', name, () => this.vault.rotate(name, purpose));
  }

  /** Seals a backend credential (macaroon, rune, NWC URI) in the identity's slot for it. */
  setCredential(name: string, kind: LightningCredentialKind, credential: Uint8Array): Promise<void> {
    return this.#run(CREDENTIAL_SET_ACTION, name, () =>
      this.vault.setLightningCredential(name, kind, credential),
    );
  }

  changePassphrase(newPassphrase: Uint8Array, kdf?: KdfSettings): Promise<void> {
    return this.#run('vault.passphrase.change', null, () => this.vault.changePassphrase(newPassphrase, kdf));
  }

  /**
   * Keys and a consistent snapshot of the database in one encrypted file. A checkpoint first, so
   * the snapshot's newest records are covered by a signature the restored home can anchor to.
   * The snapshot is taken before this backup's own audit record, which it therefore does not hold.
   */
  backup(outPath: string, backupPassphrase: Uint8Array): Promise<void> {
    return this.#run('vault.backup', null, async () => {
      await writeCheckpoint(this.store, this.vault.auditKeys(), this.clock, this.layout.auditHead);
      const database = await snapshotDatabase(this.layout.database);
      await this.vault.writeBackup(outPath, backupPassphrase, { database });
    });
  }

  /** What `warden status` and `warden start` show; its audit part is the start-up check (`checkAudit`). */
  async status() {
    const verification = await this.checkAudit();
    return {
      home: this.layout.dir,
      vaultId: this.vault.vaultId,
      sealed: this.vault.sealed,
      createdAt: this.vault.createdAt,
      identities: this.vault.listIdentities().map((i) => i.name),
      rotationDue: this.vault.rotationDue(),
      onion: this.#onion(),
      audit: {
        ok: verification.ok,
        records: verification.records,
        lastCheckpointSeq: verification.lastCheckpointSeq,
        verifiedFrom: verification.verifiedFrom,
        ...(verification.problem ? { problem: verification.problem } : {}),
      },
    };
  }

  /**
   * The API's onion address (the vault's key gives it, the same every start), and whether the
   * running server published it (its server.onion, named by a live server.pid: words only).
   */
  #onion(): { address: string; published: boolean } {
    const key = this.vault.onionServiceKey();
    key.addOnionKey.fill(0);
    const address = `${key.serviceId}.onion`;
    return {
      address,
      published: recordedOnion(this.layout.dir) === address && serverRunning(this.layout.dir),
    };
  }

  /**
   * `warden audit verify`: the whole log. Unsealed, every record must also authenticate under the
   * audit key (not only chain), and every token and policy row under the control-plane MAC.
   * `onProgress` hears how many records are done, every few thousand.
   */
  async verifyAudit(options: Pick<VerifyOptions, 'onProgress'> = {}) {
    const keyring = this.vault.auditKeys();
    const result = await verifyAudit(this.store, keyring.publicKey, this.layout.auditHead, {
      keyring,
      requireDetails: true,
      controlPlane: this.controlPlane.mac,
      ...options,
    });
    return this.#withRolledBackRows(result);
  }

  /**
   * The start-up check (`warden start`, `warden status`): only the records after the verified
   * mark, so it costs what was appended since the last verification, not the length of the log;
   * audit/verify-tail.ts says what it guarantees and what only `verifyAudit` does. The control
   * plane is checked in full, as by `verifyAudit` (its rows are few).
   */
  async checkAudit() {
    const result = await verifyAuditTail(this.store, this.vault.auditKeys(), this.layout.auditHead, {
      controlPlane: this.controlPlane.mac,
    });
    return this.#withRolledBackRows(result);
  }

  async #withRolledBackRows(result: VerifyResult): Promise<VerifyResult> {
    const keyring = this.vault.auditKeys();
    // A row put back to an older version of itself keeps a valid MAC: the log tells.
    const flagged = new Set((result.controlPlane ?? []).map((f) => `${f.table}:${f.id}`));
    const stale = (await rolledBackRows(this.store.db, keyring)).filter(
      (f) => !flagged.has(`${f.table}:${f.id}`),
    );
    if (stale.length === 0) return result;
    return { ...result, ok: false, controlPlane: [...(result.controlPlane ?? []), ...stale] };
  }

  showAudit(filter: { since?: Date; identity?: string; limit?: number }) {
    return readAudit(this.store, this.vault.auditKeys(), filter);
  }

  /** Writes the shutdown checkpoint, closes the store and wipes the vault key. */
  async close(): Promise<void> {
    try {
      if (!this.vault.sealed) {
        await writeCheckpoint(this.store, this.vault.auditKeys(), this.#opts.clock, this.layout.auditHead);
      }
    } finally {
      this.#detachControlPlane();
      await this.store.close();
      this.vault.seal();
    }
  }

  /**
   * Runs one audited action. The vault appends the `ok` record itself before it writes (its audit
   * sink); a refusal or failure gets its own record with the error code, so attempts show too.
   */
  async #run<T>(action: string, identity: string | null, fn: () => Promise<T> | T): Promise<T> {
    const operationId = randomId('op');
    const log = this.#opts.logger.child({ operationId, action });
    this.vault.setAuditSink((event: VaultEvent) =>
      this.#record(event.action, event.identity, 'ok', event.details, operationId),
    );
    try {
      const result = await fn();
      log.info('action done');
      return result;
    } catch (err) {
      const code = isWardenError(err) ? err.code : 'INTERNAL';
      log.warn({ code }, 'action refused or failed');
      if (code !== 'AUDIT_APPEND_FAILED') {
        await this.#record(action, identity, 'failed', { code }, operationId).catch(() => undefined);
      }
      throw err;
    }
  }

  async #record(
    action: string,
    identity: string | null,
    outcome: 'ok' | 'failed',
    details: Canonical,
    operationId = randomId('op'),
  ): Promise<void> {
    await appendAudit(
      this.store,
      this.vault.auditKeys(),
      auditRecord({
        actor: this.#opts.actor,
        identity,
        action,
        outcome,
        operationId,
        protocol: 'vault',
        details,
      }),
      this.#opts.clock,
      { headFile: this.layout.auditHead },
    );
  }
}

/**
 * The files a restore may write in its home. From a backup with a database, a database is
 * refused unless empty or absent (restoreDatabaseFile): its files are then the restore's own.
 * Otherwise a file counts as the restore's only if it was not there before.
 */
function restoreFiles(layout: HomeLayout): string[] {
  return [
    layout.keystore,
    layout.keystorePrevious,
    layout.keystoreLock,
    layout.auditHead,
    layout.database,
    `${layout.database}-wal`,
    `${layout.database}-shm`,
    `${layout.database}-journal`,
  ];
}

/** Verifies the audit chain while the vault is sealed, with the public key remembered in the store. */
export async function verifyAuditSealed(home: string, options: Pick<VerifyOptions, 'onProgress'> = {}) {
  const layout = ensureHome(home);
  if (!Vault.exists(layout))
    throw new WardenError('VAULT_NOT_INITIALIZED', 'no vault in this home; run `warden init`');
  const store = await openSqliteStore(layout.database, PROTOCOL_MIGRATIONS);
  try {
    const publicKey = await auditPublicKeyFromStore(store);
    return {
      ...(await verifyAudit(store, publicKey, layout.auditHead, options)),
      keySource: 'store (unauthenticated: vault sealed)',
    };
  } finally {
    await store.close();
  }
}

/**
 * When the last backup was written (the time of its audit record), read with the vault sealed:
 * the row is not authenticated then, which `audit verify` (and doctor's audit.chain) covers.
 * Null: never.
 */
export async function lastBackupSealed(home: string): Promise<string | null> {
  const layout = ensureHome(home);
  if (!Vault.exists(layout)) return null;
  const store = await openSqliteStore(layout.database, PROTOCOL_MIGRATIONS);
  try {
    const row = await store.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.max('time').as('at'))
      .where('action', '=', 'vault.backup')
      .where('outcome', '=', 'ok')
      .executeTakeFirst();
    return row?.at ?? null;
  } finally {
    await store.close();
  }
}

export function readBackupFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch {
    throw new WardenError('FILE_NOT_FOUND', 'cannot read the backup file', { path });
  }
}
