import type { Logger } from 'pino';
import type { ControlPlaneFinding } from '../audit/control-plane.ts';
import type { AuditKeyring } from '../audit/keyring.ts';
import { detailsAad } from '../audit/record.ts';
import { asBytes, okRecordsBetween, readHead, toStoredRecord } from '../audit/rows.ts';
import { constantTimeEqual, wipe } from '../core/bytes.ts';
import { isWardenError, WardenError } from '../core/errors.ts';
import type { ControlPlaneMac } from '../keys/vault.ts';
import type { Db } from '../store/store.ts';

/**
 * The control-plane MAC as the gateway holds it, with a once-per-row error report. Token and
 * policy readers are called with a database handle only (every front door passes `store.db`, hold
 * release a transaction), so the unsealed Warden attaches its MAC to its store here; a handle
 * nobody attached is matched through the audit public key the store records (the vault it
 * belongs to). A database with no unsealed vault attached is refused, never read unchecked.
 */
export interface ControlPlane {
  readonly mac: ControlPlaneMac;
  /**
   * `check`'s word on a row's MAC (null: it verifies), remembered for the row as it was: read
   * again with every column equal, the MAC included, it verifies again without its message being
   * rebuilt (a policy's whole document, on every request). Any changed column is checked afresh,
   * a failure is never remembered, and a sealed vault still refuses with VAULT_SEALED.
   */
  rowProblem<R extends object>(
    table: string,
    id: string,
    row: R,
    check: (mac: ControlPlaneMac, row: R) => ControlPlaneFinding['reason'] | null,
  ): ControlPlaneFinding['reason'] | null;
  /** Logs a row that fails its MAC at error level, once per row and process. */
  report(finding: ControlPlaneFinding): void;
  /**
   * What the audit log says about the control plane (see AuditWitness below), read through `db`:
   * the store this control plane is attached to, or a transaction on it. `fresh` reads the records
   * written since the last look now; otherwise at most about once a second.
   */
  witness(db: Db, fresh?: boolean): Promise<WitnessView>;
  /** Whether `db` holds the audit log this control plane's witness has read (a copy may not). */
  follows(db: Db): Promise<boolean>;
}

/** The audit log's word on tokens and policies, as of the records read. */
export interface WitnessView {
  /** Whether a `token.revoke` (or `nwc.revoke`) for this id is in the log: its row must say revoked. */
  revoked(id: string): boolean;
  /** The hash of the last `policy.set` for an identity key (`*` the default); undefined if none. */
  policy(identity: string): string | undefined;
}

export function makeControlPlane(
  mac: ControlPlaneMac,
  logger: Logger,
  audit?: { db: Db; keyring: AuditKeyring },
): ControlPlane {
  const reported = new Set<string>();
  const witness = audit
    ? new AuditWitness(audit.db, audit.keyring, () =>
        logger.error(
          { code: 'CONTROL_PLANE_TAMPERED' },
          'the audit log no longer holds records this process has read: it was truncated or rewritten',
        ),
      )
    : null;
  const verified = new Map<string, object>();
  return {
    mac,
    rowProblem(table, id, row, check) {
      const key = `${table}\u0000${id}`;
      const seen = verified.get(key);
      if (seen && sameColumns(seen, row)) {
        mac.mac(NOTHING); // refuses once the vault is sealed, as the check itself would
        return null;
      }
      verified.delete(key);
      const reason = check(mac, row);
      if (reason === null) {
        if (verified.size >= MAX_VERIFIED_ROWS) verified.clear();
        verified.set(key, copyOfRow(row));
      }
      return reason;
    },
    witness: (db, fresh) => (witness ? witness.view(db, fresh ?? false) : Promise.resolve(EMPTY_VIEW)),
    follows: (db) => (witness ? witness.follows(db) : Promise.resolve(true)),
    report(finding) {
      const key = `${finding.table}\u0000${finding.id}\u0000${finding.reason}`;
      if (reported.has(key)) return;
      reported.add(key);
      logger.error(
        { code: finding.code, table: finding.table, id: finding.id.slice(0, 80), reason: finding.reason },
        'a control-plane row fails its integrity check and is refused: it was written without the vault key',
      );
    },
  };
}

const NOTHING = new Uint8Array(0);
/** Rows remembered as verified, per control plane: past this, it starts again (a check each). */
const MAX_VERIFIED_ROWS = 4096;

/** The same columns with the same values (bytes compared as bytes): a row read again unchanged. */
function sameColumns(a: object, b: object): boolean {
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const names = Object.keys(left);
  if (names.length !== Object.keys(right).length) return false;
  return names.every((name) => {
    const x = left[name];
    const y = right[name];
    if (x instanceof Uint8Array || y instanceof Uint8Array)
      return x instanceof Uint8Array && y instanceof Uint8Array && constantTimeEqual(x, y);
    return Object.hasOwn(right, name) && x === y;
  });
}

/** The row as verified, its bytes copied: nothing the caller does to its row changes this one. */
function copyOfRow(row: object): object {
  return Object.fromEntries(
    Object.entries(row).map(([name, value]) => [
      name,
      value instanceof Uint8Array ? Uint8Array.from(value) : value,
    ]),
  );
}

const byDb = new WeakMap<Db, ControlPlane>();
const byAuditKey = new Map<string, Set<ControlPlane>>();
const AUDIT_KEY_META = 'audit_public_key';

/** Attaches an unsealed vault's control plane to its store; returns the detach for close. */
export function attachControlPlane(db: Db, auditPublicKeyHex: string, cp: ControlPlane): () => void {
  byDb.set(db, cp);
  let set = byAuditKey.get(auditPublicKeyHex);
  if (!set) {
    set = new Set();
    byAuditKey.set(auditPublicKeyHex, set);
  }
  set.add(cp);
  return () => {
    if (byDb.get(db) === cp) byDb.delete(db);
    set.delete(cp);
    if (set.size === 0) byAuditKey.delete(auditPublicKeyHex);
  };
}

/** The control plane of the vault this database belongs to, or VAULT_SEALED when none is open. */
export async function controlPlaneOf(db: Db): Promise<ControlPlane> {
  const attached = byDb.get(db);
  if (attached) return attached;
  const row = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', AUDIT_KEY_META)
    .executeTakeFirst();
  const candidates = row ? [...(byAuditKey.get(row.value) ?? [])] : [];
  let cp = candidates[0];
  // Two copies of one vault open in one process (a restore beside its original) share the audit
  // key: the one whose witness has read this database's log is the one to ask.
  if (candidates.length > 1) {
    for (const c of candidates) {
      if (await c.follows(db)) {
        cp = c;
        break;
      }
    }
  }
  if (!cp) {
    throw new WardenError(
      'VAULT_SEALED',
      'the control plane (tokens, policies) cannot be checked without the unsealed vault',
    );
  }
  return cp;
}

const EMPTY_VIEW: WitnessView = { revoked: () => false, policy: () => undefined };

/** The audit actions the witness follows (their `ok` records only). */
const WITNESSED = ['token.revoke', 'nwc.revoke', 'policy.set'];
/** How old the witness may be before a check that would otherwise pass reads the newest records. */
const WITNESS_MAX_AGE_MS = 1000;

interface Witnessed {
  revoked: Set<string>;
  /** identity key → the last `policy.set`: its hash and seq (the later seq wins in a merge). */
  policies: Map<string, { hash: string; seq: number }>;
}

/**
 * The details of an audit record, or null when unreadable (an unreadable record vouches for
 * nothing). With `sealedThrows`, a sealed vault throws VAULT_SEALED instead of reading as null.
 */
export async function openAuditDetails(
  keyring: AuditKeyring,
  raw: unknown,
  sealedThrows = false,
): Promise<Record<string, unknown> | null> {
  const row = toStoredRecord(raw as Record<string, unknown>);
  if (row.details === null) return null;
  let plain: Uint8Array | undefined;
  try {
    plain = await keyring.decrypt(row.details, detailsAad(row));
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch (err) {
    if (sealedThrows && isWardenError(err, 'VAULT_SEALED')) throw err;
    return null;
  } finally {
    wipe(plain);
  }
}

/** Reads the witnessed records with afterSeq < seq <= upToSeq into `into`, in seq order. */
async function readWitnessed(
  db: Db,
  keyring: AuditKeyring,
  afterSeq: number,
  upToSeq: number,
  into: Witnessed,
): Promise<void> {
  for (const row of await okRecordsBetween(db, afterSeq, upToSeq, WITNESSED)) {
    const details = await openAuditDetails(keyring, row, true);
    if (!details) continue;
    if ((row.action === 'token.revoke' || row.action === 'nwc.revoke') && typeof details.id === 'string')
      into.revoked.add(details.id);
    if (
      row.action === 'policy.set' &&
      typeof details.identity === 'string' &&
      typeof details.hash === 'string'
    )
      into.policies.set(details.identity, { hash: details.hash, seq: Number(row.seq) });
  }
}

async function hashAt(db: Db, seq: number): Promise<Uint8Array | null> {
  const row = await db
    .selectFrom('audit_log')
    .select('record_hash')
    .where('seq', '=', seq)
    .executeTakeFirst();
  return row ? asBytes(row.record_hash) : null;
}

/**
 * Revocations and the current policy of each identity, as the authenticated audit log records
 * them: a token or policy row put back to an older version of itself keeps a valid MAC, and only
 * the log tells. Built when the vault is unsealed, then brought up to date by reading only the
 * records after the last one seen (the log is append-only, chained by record_hash), at most about
 * once a second, or at once when a row disagrees with it (another process may have just set a
 * policy). Only reads through the attached store advance it: a transaction may hold records of its
 * own that it later rolls back, so what one sees is used for that check and then forgotten.
 */
class AuditWitness {
  readonly #root: Db;
  readonly #keyring: AuditKeyring;
  readonly #onBroken: () => void;
  readonly #seen: Witnessed = { revoked: new Set(), policies: new Map() };
  #seq = 0;
  #hash: Uint8Array | null = null;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #tail: Promise<void> = Promise.resolve();
  #inFlight: Promise<void> | null = null;
  #broken = false;
  readonly #view: WitnessView;

  constructor(root: Db, keyring: AuditKeyring, onBroken: () => void) {
    this.#root = root;
    this.#keyring = keyring;
    this.#onBroken = onBroken;
    this.#view = {
      revoked: (id) => this.#seen.revoked.has(id),
      policy: (identity) => this.#seen.policies.get(identity)?.hash,
    };
  }

  async view(db: Db, fresh: boolean): Promise<WitnessView> {
    if (db !== this.#root) return this.#local(db);
    if (fresh) await this.#advance();
    else if (performance.now() - this.#checkedAt >= WITNESS_MAX_AGE_MS) {
      this.#inFlight ??= this.#advance().finally(() => {
        this.#inFlight = null;
      });
      await this.#inFlight;
    }
    return this.#view;
  }

  async follows(db: Db): Promise<boolean> {
    if (this.#seq === 0 || !this.#hash) return true;
    const at = await hashAt(db, this.#seq);
    return at !== null && constantTimeEqual(at, this.#hash);
  }

  /** Reads what was appended since the last look; queued, so a fresh read starts after the call. */
  #advance(): Promise<void> {
    const run = this.#tail.then(() => this.#read());
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #read(): Promise<void> {
    const started = performance.now();
    const head = await readHead(this.#root);
    const headSeq = head?.seq ?? 0;
    if (headSeq < this.#seq) {
      // Truncated: keep what was read (revocations stand; a policy set since stays the current one).
      this.#brokenOnce();
    } else if (head && headSeq > this.#seq) {
      if (!(await this.follows(this.#root))) this.#brokenOnce();
      await readWitnessed(this.#root, this.#keyring, this.#seq, headSeq, this.#seen);
      this.#seq = headSeq;
      this.#hash = head.recordHash;
    } else if (head && this.#hash && !constantTimeEqual(head.recordHash, this.#hash)) {
      this.#brokenOnce();
      this.#hash = head.recordHash;
    }
    this.#checkedAt = started;
  }

  #brokenOnce(): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#onBroken();
  }

  /** Inside a transaction: what is known, plus the records after it as this transaction sees them. */
  async #local(db: Db): Promise<WitnessView> {
    const from = this.#seq;
    const head = await readHead(db);
    const delta: Witnessed = { revoked: new Set(), policies: new Map() };
    if (head && head.seq > from) await readWitnessed(db, this.#keyring, from, head.seq, delta);
    const seen = this.#seen;
    return {
      revoked: (id) => seen.revoked.has(id) || delta.revoked.has(id),
      policy: (identity) => {
        const known = seen.policies.get(identity);
        const newer = delta.policies.get(identity);
        return (newer && (!known || newer.seq > known.seq) ? newer : known)?.hash;
      },
    };
  }
}
