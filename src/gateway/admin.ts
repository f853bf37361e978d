import { appendAuditInTx } from '../audit/append.ts';
import { auditRecord } from '../audit/entry.ts';
import type { Canonical } from '../core/canonical.ts';
import { WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { signerFor } from '../keys/capabilities.ts';
import { adminActionNamed } from '../protocols/registry.ts';
import type { Db } from '../store/store.ts';
import { DEFAULT_POLICY_KEY, type LoadedPolicy, storePolicy } from './policies.ts';
import { createToken, listTokens, revokeToken, type TokenInfo, type TokenSpec } from './tokens.ts';
import type { Warden } from './warden.ts';

/**
 * Runs a store change and its audit record in one transaction: both happen, or neither. Then the
 * control plane's witness reads the new record at once (a revocation or policy set here holds
 * from the next request, not a second later; the change is committed whatever that read says).
 */
export async function auditedChange<T>(
  warden: Warden,
  action: string,
  identity: string | null,
  change: (tx: Db) => Promise<{ result: T; details: Canonical }>,
): Promise<T> {
  return (await auditedChangeAt(warden, action, identity, change)).result;
}

/** auditedChange, also saying at which seq of the log its record went. */
export async function auditedChangeAt<T>(
  warden: Warden,
  action: string,
  identity: string | null,
  change: (tx: Db) => Promise<{ result: T; details: Canonical }>,
): Promise<{ result: T; seq: number }> {
  const done = await warden.store.transaction(async (tx) => {
    const { result, details } = await change(tx);
    const { seq } = appendAuditInTx(
      tx.sync,
      warden.vault.auditKeys(),
      auditRecord({
        actor: warden.actor,
        identity,
        action,
        outcome: 'ok',
        operationId: randomId('op'),
        protocol: 'admin',
        details,
      }),
      warden.clock,
    );
    return { result, seq };
  });
  await warden.controlPlane.witness(warden.store.db, true).catch(() => undefined);
  return done;
}

export function createTokenAudited(
  warden: Warden,
  spec: TokenSpec,
): Promise<{ token: string; info: TokenInfo }> {
  if (spec.identity) warden.vault.getIdentity(spec.identity);
  return auditedChange(warden, 'token.create', spec.identity, async (tx) => {
    const created = await createToken(tx, spec, warden.clock, warden.controlPlane);
    const { id, role, capabilities, expiresAt, label } = created.info;
    return { result: created, details: { id, role, capabilities, expiresAt, label } };
  });
}

export function revokeTokenAudited(warden: Warden, id: string): Promise<TokenInfo> {
  return auditedChange(warden, 'token.revoke', null, async (tx) => {
    const info = await revokeToken(tx, id, warden.clock, warden.controlPlane);
    return { result: info, details: { id, ...(info.tampered ? { tampered: info.tampered } : {}) } };
  });
}

export function tokens(warden: Warden): Promise<TokenInfo[]> {
  return listTokens(warden.store.db, warden.controlPlane);
}

/** Stores a validated policy for an identity (or the default, `*`), audited with its hash. */
export function setPolicyAudited(
  warden: Warden,
  identity: string | null,
  document: string,
): Promise<LoadedPolicy> {
  const key = identity ?? DEFAULT_POLICY_KEY;
  if (identity) warden.vault.getIdentity(identity);
  return auditedChange(warden, 'policy.set', identity, async (tx) => {
    const loaded = await storePolicy(tx, key, document, warden.actor, warden.clock, warden.controlPlane);
    return {
      result: loaded,
      details: { identity: key, hash: loaded.hash, rules: loaded.policy.rules.length },
    };
  });
}

/**
 * Runs a module's admin action for one identity: one that writes runs in one transaction with
 * its audit record (named by the action), one that reads on the store. NOT_FOUND for no such action.
 */
export async function moduleActionAudited(
  warden: Warden,
  name: string,
  identity: string,
  args: unknown,
): Promise<Canonical> {
  const action = adminActionNamed(name);
  if (!action) throw new WardenError('NOT_FOUND', `no admin action ${name.slice(0, 64)}`);
  const publicKeys = warden.vault.getIdentity(identity);
  const context = (tables: Db) => ({
    identity,
    publicKeys,
    tables,
    controlPlane: warden.controlPlane.mac,
    signer: signerFor(warden.vault, identity, action.signer),
    actor: warden.actor,
    now: warden.clock.now().toISOString(),
  });
  if (!action.writes) return (await action.run(args, context(warden.store.db))).result;
  return auditedChange(warden, action.name, identity, (tx) => action.run(args, context(tx)));
}
