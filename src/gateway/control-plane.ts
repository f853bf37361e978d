import type { Logger } from 'pino';
import type { ControlPlaneFinding } from '../audit/control-plane.ts';
import { WardenError } from '../core/errors.ts';
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
  /** Logs a row that fails its MAC at error level, once per row and process. */
  report(finding: ControlPlaneFinding): void;
}

export function makeControlPlane(mac: ControlPlaneMac, logger: Logger): ControlPlane {
  const reported = new Set<string>();
  return {
    mac,
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
  const candidates = row ? byAuditKey.get(row.value) : undefined;
  const cp = candidates?.values().next().value;
  if (!cp) {
    throw new WardenError(
      'VAULT_SEALED',
      'the control plane (tokens, policies) cannot be checked without the unsealed vault',
    );
  }
  return cp;
}
