import { appendAuditInTx } from '../audit/append.ts';
import {
  CONTROL_PLANE_TAMPERED,
  type ControlPlaneFinding,
  policyMacMessage,
  tokenMacMessage,
} from '../audit/control-plane.ts';
import { auditRecord } from '../audit/entry.ts';
import type { AuditKeyring } from '../audit/keyring.ts';
import type { Clock } from '../core/clock.ts';
import { randomId } from '../core/ids.ts';
import { CONTROL_PLANE_MARKER } from '../keys/control-plane-key.ts';
import type { PolicyTable, TokenTable } from '../store/schema.ts';
import type { Db, Store } from '../store/store.ts';
import { type ControlPlane, openAuditDetails } from './control-plane.ts';
import { policyHash } from './policies.ts';

/**
 * Rows from before migration 0005 have no MAC. They are adopted (MAC'd) once, at the first unseal
 * after the upgrade, and only where the audit log vouches for them; the adoption is itself audited
 * (`control-plane.adopt`, listing every row adopted or refused). After that, or in a vault born
 * with MACs (its first record says `controlPlane: mac-v1`), a row without a MAC is tampering and
 * stays refused. The audit log is the witness because nobody can write a record whose details
 * open under the vault's key without it: a row planted without the key has no such record.
 */
export const ADOPT_ACTION = 'control-plane.adopt';

export interface AdoptResult {
  adopted: string[];
  refused: string[];
}

interface Witness {
  tokens: Map<string, { identity: string | null; details: Record<string, unknown> }>;
  revoked: Set<string>;
  /** The hash of the last policy set per identity key (`*` the default). */
  policies: Map<string, string>;
}

/** Whether adoption is still open: never done, and the vault was not born with MACs. */
async function adoptionOpen(db: Db, keyring: AuditKeyring): Promise<boolean> {
  const done = await db
    .selectFrom('audit_log')
    .select('seq')
    .where('action', '=', ADOPT_ACTION)
    .limit(1)
    .executeTakeFirst();
  if (done) return false;
  const first = await db.selectFrom('audit_log').selectAll().where('seq', '=', 1).executeTakeFirst();
  if (!first) return false; // an empty log vouches for nothing
  const details = await openAuditDetails(keyring, first);
  // Unreadable is treated as "born with MACs": the safe side is to adopt nothing.
  return details !== null && details.controlPlane !== CONTROL_PLANE_MARKER;
}

async function readWitness(db: Db, keyring: AuditKeyring): Promise<Witness> {
  const witness: Witness = { tokens: new Map(), revoked: new Set(), policies: new Map() };
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', 'in', ['token.create', 'token.revoke', 'policy.set'])
    .where('outcome', '=', 'ok')
    .orderBy('seq')
    .execute();
  for (const row of rows) {
    const details = await openAuditDetails(keyring, row);
    if (!details) continue;
    const id = typeof details.id === 'string' ? details.id : null;
    if (row.action === 'token.create' && id) witness.tokens.set(id, { identity: row.identity, details });
    if (row.action === 'token.revoke' && id) witness.revoked.add(id);
    if (
      row.action === 'policy.set' &&
      typeof details.identity === 'string' &&
      typeof details.hash === 'string'
    )
      witness.policies.set(details.identity, details.hash);
  }
  return witness;
}

/**
 * Rows whose MAC holds but which the audit log says are stale: a token revoked in the log but
 * not in its row, a policy whose hash is not the last one set for its identity (or with no
 * `policy.set` at all), and a policy row deleted although the log says one was set. The gateway
 * refuses the same (tokens.ts, policies.ts, from the witness in control-plane.ts). For `audit verify`.
 */
export async function rolledBackRows(db: Db, keyring: AuditKeyring): Promise<ControlPlaneFinding[]> {
  const witness = await readWitness(db, keyring);
  const found: ControlPlaneFinding[] = [];
  const tokens = await db
    .selectFrom('token')
    .select(['id', 'revoked_at'])
    .where('revoked_at', 'is', null)
    .execute();
  for (const t of tokens) {
    if (witness.revoked.has(t.id))
      found.push({ code: CONTROL_PLANE_TAMPERED, table: 'token', id: t.id, reason: 'rolled-back' });
  }
  const present = new Set<string>();
  for (const p of await db.selectFrom('policy').select(['identity', 'hash']).execute()) {
    present.add(p.identity);
    if (witness.policies.get(p.identity) !== p.hash)
      found.push({ code: CONTROL_PLANE_TAMPERED, table: 'policy', id: p.identity, reason: 'rolled-back' });
  }
  for (const identity of [...witness.policies.keys()].sort()) {
    if (!present.has(identity))
      found.push({ code: CONTROL_PLANE_TAMPERED, table: 'policy', id: identity, reason: 'deleted' });
  }
  return found;
}

function tokenVouched(w: Witness, row: TokenTable): boolean {
  const seen = w.tokens.get(row.id);
  if (!seen) return false;
  const d = seen.details;
  const caps = JSON.stringify(d.capabilities);
  return (
    seen.identity === row.identity &&
    d.role === row.role &&
    caps === row.capabilities &&
    d.expiresAt === row.expires_at &&
    d.label === row.label &&
    (!w.revoked.has(row.id) || row.revoked_at !== null)
  );
}

function policyVouched(w: Witness, row: PolicyTable): boolean {
  return w.policies.get(row.identity) === row.hash && policyHash(row.document) === row.hash;
}

/** Adopts legacy rows where allowed (see above); returns null when there was nothing to do. */
export async function adoptLegacyRows(
  store: Store,
  cp: ControlPlane,
  keyring: AuditKeyring,
  clock: Clock,
  actor: string,
): Promise<AdoptResult | null> {
  return store.transaction(async (tx) => {
    const tokens = await tx.selectFrom('token').selectAll().where('mac', 'is', null).execute();
    const policies = await tx.selectFrom('policy').selectAll().where('mac', 'is', null).execute();
    if (tokens.length + policies.length === 0 || !(await adoptionOpen(tx, keyring))) return null;
    const witness = await readWitness(tx, keyring);
    const result: AdoptResult = { adopted: [], refused: [] };
    for (const row of tokens) {
      const ok = tokenVouched(witness, row);
      result[ok ? 'adopted' : 'refused'].push(`token:${row.id}`);
      if (ok)
        await tx
          .updateTable('token')
          .set({ mac: cp.mac.mac(tokenMacMessage(row)) })
          .where('id', '=', row.id)
          .execute();
    }
    for (const row of policies) {
      const ok = policyVouched(witness, row);
      result[ok ? 'adopted' : 'refused'].push(`policy:${row.identity}`);
      if (ok)
        await tx
          .updateTable('policy')
          .set({ mac: cp.mac.mac(policyMacMessage(row)) })
          .where('identity', '=', row.identity)
          .execute();
    }
    await appendAuditInTx(
      tx.sync,
      keyring,
      auditRecord({
        actor,
        identity: null,
        action: ADOPT_ACTION,
        outcome: 'ok',
        operationId: randomId('op'),
        protocol: 'vault',
        details: { adopted: result.adopted, refused: result.refused },
      }),
      clock,
    );
    return result;
  });
}
