import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
import { canonicalJson } from '../core/canonical.ts';
import type { ControlPlaneMac } from '../keys/control-plane-key.ts';
import type { NwcConnectionTable, PolicyTable, TokenTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import { asBytes } from './rows.ts';

/**
 * Integrity of the control plane: every token and policy row carries an HMAC (key from the vault,
 * see keys/control-plane-key.ts) over a canonical encoding of every column but the MAC itself,
 * domain-separated per table, so a row added, loosened, or given another row's MAC without the
 * vault's key does not verify. The gateway checks it on every load; `audit verify` checks all.
 */

/** Stable code for a token or policy row whose MAC is missing or wrong. */
export const CONTROL_PLANE_TAMPERED = 'CONTROL_PLANE_TAMPERED';

export type ControlPlaneTable = 'token' | 'policy' | 'nwc_connection';

export interface ControlPlaneFinding {
  code: typeof CONTROL_PLANE_TAMPERED;
  table: ControlPlaneTable;
  /** The token id, or the policy's identity (`*` for the default). */
  id: string;
  /**
   * `rolled-back`: the MAC holds but the row is an older version of itself (a revoked token not
   * revoked, a policy other than the last one set), which only the audit log can tell.
   * `deleted`: the log says a policy was set for this identity, and its row is gone.
   */
  reason: 'mac-missing' | 'mac-mismatch' | 'rolled-back' | 'deleted';
}

type Unmaced<T> = Omit<T, 'mac'>;

const DOMAIN = {
  token: 'warden/control-plane/token/v1\u0000',
  policy: 'warden/control-plane/policy/v1\u0000',
  nwc: 'warden/control-plane/nwc-connection/v1\u0000',
} as const;

/** The MAC'd bytes of an NWC connection row (what it may do, for whom, until when). */
export function nwcConnectionMacMessage(row: Unmaced<NwcConnectionTable>): Uint8Array {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return utf8(
    DOMAIN.nwc +
      canonicalJson({
        id: String(row.id),
        identity: String(row.identity),
        label: String(row.label),
        clientPubkey: String(row.client_pubkey),
        servicePubkey: String(row.service_pubkey),
        methods: String(row.methods),
        encryptions: String(row.encryptions),
        relays: String(row.relays),
        budgetAsset: text(row.budget_asset),
        budgetMax: text(row.budget_max),
        budgetWindow: text(row.budget_window),
        holdWaitSeconds: Number(row.hold_wait_seconds),
        createdAt: String(row.created_at),
        expiresAt: String(row.expires_at),
        revokedAt: text(row.revoked_at),
      }),
  );
}

/** The MAC'd bytes of a token row. Values are coerced as read back (a hand edit may store any type). */
export function tokenMacMessage(row: Unmaced<TokenTable>): Uint8Array {
  return utf8(
    DOMAIN.token +
      canonicalJson({
        id: String(row.id),
        secretHash: bytesToHex(asBytes(row.secret_hash)),
        role: String(row.role),
        identity: row.identity === null ? null : String(row.identity),
        capabilities: String(row.capabilities),
        label: String(row.label),
        createdAt: String(row.created_at),
        expiresAt: String(row.expires_at),
        revokedAt: row.revoked_at === null ? null : String(row.revoked_at),
      }),
  );
}

export function policyMacMessage(row: Unmaced<PolicyTable>): Uint8Array {
  return utf8(
    DOMAIN.policy +
      canonicalJson({
        identity: String(row.identity),
        document: String(row.document),
        hash: String(row.hash),
        setAt: String(row.set_at),
        setBy: String(row.set_by),
      }),
  );
}

/** What is wrong with a row's MAC, or null when it verifies. */
export function rowMacProblem(
  mac: ControlPlaneMac,
  message: Uint8Array,
  stored: Uint8Array | null,
): ControlPlaneFinding['reason'] | null {
  if (stored === null || stored === undefined) return 'mac-missing';
  return mac.verify(message, asBytes(stored)) ? null : 'mac-mismatch';
}

export function tokenRowProblem(mac: ControlPlaneMac, row: TokenTable) {
  return rowMacProblem(mac, tokenMacMessage(row), row.mac);
}

export function nwcConnectionRowProblem(mac: ControlPlaneMac, row: NwcConnectionTable) {
  return rowMacProblem(mac, nwcConnectionMacMessage(row), row.mac);
}

export function policyRowProblem(mac: ControlPlaneMac, row: PolicyTable) {
  return rowMacProblem(mac, policyMacMessage(row), row.mac);
}

/** Every token, policy and NWC connection row whose MAC fails, in table then id order. */
export async function checkControlPlane(db: Db, mac: ControlPlaneMac): Promise<ControlPlaneFinding[]> {
  const found: ControlPlaneFinding[] = [];
  for (const row of await db.selectFrom('token').selectAll().orderBy('id').execute()) {
    const reason = tokenRowProblem(mac, row);
    if (reason) found.push({ code: CONTROL_PLANE_TAMPERED, table: 'token', id: String(row.id), reason });
  }
  for (const row of await db.selectFrom('policy').selectAll().orderBy('identity').execute()) {
    const reason = policyRowProblem(mac, row);
    if (reason)
      found.push({ code: CONTROL_PLANE_TAMPERED, table: 'policy', id: String(row.identity), reason });
  }
  for (const row of await db.selectFrom('nwc_connection').selectAll().orderBy('id').execute()) {
    const reason = nwcConnectionRowProblem(mac, row);
    if (reason)
      found.push({ code: CONTROL_PLANE_TAMPERED, table: 'nwc_connection', id: String(row.id), reason });
  }
  return found;
}
