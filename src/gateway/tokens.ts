import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import {
  CONTROL_PLANE_TAMPERED,
  type ControlPlaneFinding,
  tokenMacMessage,
  tokenRowProblem,
} from '../audit/control-plane.ts';
import { constantTimeEqual } from '../core/bytes.ts';
import type { Clock } from '../core/clock.ts';
import { WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { type Capability, type Principal, ROLES, type Role } from '../core/principal.ts';
import { CAPABILITIES } from '../protocols/registry.ts';
import { committedReadsOf } from '../store/committed-reads.ts';
import type { TokenTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import { type ControlPlane, controlPlaneOf } from './control-plane.ts';

/**
 * Bearer tokens: `wdn_<id>_<secret>` where the secret is 256 random bits. Only SHA-256 of the
 * secret is stored; the token is shown once. Lookup is by id, comparison in constant time. Every
 * row carries the control-plane MAC (audit/control-plane.ts): one that fails is never honoured,
 * nor one whose revocation the audit log records although its row no longer says so.
 */
const TOKEN_PATTERN = /^wdn_(tok_[a-z2-7]{26})_([A-Za-z0-9_-]{43})$/;
/** The token id a bearer credential names, if it is well-formed (failures are counted per id). */
export function presentedTokenId(authorization: string | undefined): string | null {
  const match = authorization?.startsWith('Bearer ')
    ? TOKEN_PATTERN.exec(authorization.slice(7).trim())
    : null;
  return match?.[1] ?? null;
}

export const DEFAULT_TOKEN_TTL_MS = 90 * 24 * 60 * 60 * 1000;
export const MAX_TOKEN_TTL_MS = 366 * 24 * 60 * 60 * 1000;

export interface TokenSpec {
  role: Role;
  identity: string | null;
  capabilities: readonly Capability[];
  label: string;
  ttlMs?: number;
}

export interface TokenInfo {
  id: string;
  role: Role;
  identity: string | null;
  capabilities: Capability[];
  label: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  /** Set when the row fails its MAC (CONTROL_PLANE_TAMPERED): it never authenticates. */
  tampered?: ControlPlaneFinding['reason'];
}

export function validateTokenSpec(spec: TokenSpec): void {
  if (!ROLES.includes(spec.role))
    throw new WardenError('INVALID_ARGUMENT', `role must be one of ${ROLES.join(', ')}`);
  if (spec.role === 'agent') {
    if (!spec.identity)
      throw new WardenError('INVALID_ARGUMENT', 'an agent token needs exactly one identity');
    if (spec.capabilities.length === 0)
      throw new WardenError('INVALID_ARGUMENT', 'an agent token needs at least one capability');
  } else {
    if (spec.identity)
      throw new WardenError('INVALID_ARGUMENT', 'only agent tokens are bound to an identity');
    if (spec.capabilities.length > 0)
      throw new WardenError('INVALID_ARGUMENT', 'capabilities are for agent tokens');
  }
  for (const c of spec.capabilities) {
    if (!CAPABILITIES.includes(c))
      throw new WardenError('INVALID_ARGUMENT', `unknown capability "${c}" (${CAPABILITIES.join(', ')})`);
  }
  if (!/^[\x20-\x7e]{1,64}$/.test(spec.label))
    throw new WardenError('INVALID_ARGUMENT', 'label: 1-64 printable ASCII characters');
  const ttl = spec.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_TOKEN_TTL_MS) {
    throw new WardenError('INVALID_ARGUMENT', 'token lifetime must be between 1 second and 366 days');
  }
}

export async function createToken(
  tx: Db,
  spec: TokenSpec,
  clock: Clock,
  cp: ControlPlane,
): Promise<{ token: string; info: TokenInfo }> {
  validateTokenSpec(spec);
  const id = randomId('tok');
  const secret = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const token = `wdn_${id}_${base64urlnopad.encode(secret)}`;
  const now = clock.now();
  const info: TokenInfo = {
    id,
    role: spec.role,
    identity: spec.identity,
    capabilities: [...spec.capabilities],
    label: spec.label,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (spec.ttlMs ?? DEFAULT_TOKEN_TTL_MS)).toISOString(),
    revokedAt: null,
  };
  const row = {
    id,
    secret_hash: sha256(secret),
    role: info.role,
    identity: info.identity,
    capabilities: JSON.stringify(info.capabilities),
    label: info.label,
    created_at: info.createdAt,
    expires_at: info.expiresAt,
    revoked_at: null,
  };
  secret.fill(0);
  await tx
    .insertInto('token')
    .values({ ...row, mac: cp.mac.mac(tokenMacMessage(row)) })
    .execute();
  return { token, info };
}

/** A token's row as committed (read on every request: see store/committed-reads.ts). */
async function tokenRow(db: Db, id: string): Promise<TokenTable | undefined> {
  const reads = committedReadsOf(db);
  if (reads) return reads.get<TokenTable>('SELECT * FROM token WHERE id = ?', [id]);
  return db.selectFrom('token').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A row read back, with its MAC checked: a failing one is reported once and flagged. */
function checkedInfo(row: TokenTable, cp: ControlPlane): TokenInfo {
  const reason = cp.rowProblem('token', row.id, row, tokenRowProblem);
  if (!reason) return rowToInfo(row);
  cp.report({ code: CONTROL_PLANE_TAMPERED, table: 'token', id: String(row.id), reason });
  return { ...rowToInfo(row), tampered: reason };
}

/** Capabilities as stored; a hand-edited value that is not a JSON list shows as none. */
function parseCapabilities(text: string): Capability[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value.map(String) as Capability[]) : [];
  } catch {
    return [];
  }
}

function rowToInfo(row: TokenTable): TokenInfo {
  return {
    id: row.id,
    role: row.role as Role,
    identity: row.identity,
    capabilities: parseCapabilities(row.capabilities),
    label: row.label,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * Whether the audit log records this token's revocation although its row (MAC intact) says it
 * is not revoked: the row was put back as it was before (a leaked token brought back to life).
 * Asked only of a row that would otherwise pass, so the hot path costs a set lookup (the witness
 * reads new records at most about once a second). Reported once, like a failing MAC.
 */
async function revokedInLog(db: Db, row: TokenTable, cp: ControlPlane): Promise<boolean> {
  if (row.revoked_at !== null || !(await cp.witness(db)).revoked(row.id)) return false;
  // The row may have been read before the revocation committed and the log after: read again, a
  // row that now says revoked is refused as revoked, not reported as put back.
  if ((await tokenRow(db, row.id))?.revoked_at) return true;
  cp.report({ code: CONTROL_PLANE_TAMPERED, table: 'token', id: String(row.id), reason: 'rolled-back' });
  return true;
}

/** Every token, rows that fail their MAC or were rolled back flagged `tampered` (and logged). */
export async function listTokens(db: Db, cp: ControlPlane): Promise<TokenInfo[]> {
  const rows = await db.selectFrom('token').selectAll().orderBy('created_at').execute();
  const infos: TokenInfo[] = [];
  for (const row of rows) {
    const info = checkedInfo(row, cp);
    if (!info.tampered && (await revokedInLog(db, row, cp))) info.tampered = 'rolled-back';
    infos.push(info);
  }
  return infos;
}

/**
 * Revokes a token. A tampered row may be revoked too (that only takes power away); its new MAC
 * covers the revocation, and the returned info still says it was tampered (for the audit record).
 */
export async function revokeToken(tx: Db, id: string, clock: Clock, cp: ControlPlane): Promise<TokenInfo> {
  const row = await tx.selectFrom('token').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new WardenError('NOT_FOUND', 'no token with that id', { id });
  const info = checkedInfo(row, cp);
  if (!row.revoked_at || info.tampered) {
    row.revoked_at ??= clock.now().toISOString();
    await tx
      .updateTable('token')
      .set({ revoked_at: row.revoked_at, mac: cp.mac.mac(tokenMacMessage(row)) })
      .where('id', '=', id)
      .execute();
  }
  return { ...info, revokedAt: row.revoked_at };
}

/** Resolves an Authorization header to a principal, or throws UNAUTHENTICATED (never says why in detail). */
export async function authenticate(
  db: Db,
  authorization: string | undefined,
  clock: Clock,
  controlPlane?: ControlPlane,
): Promise<Principal> {
  const unauthenticated = () => new WardenError('UNAUTHENTICATED', 'a valid bearer token is required');
  if (!authorization?.startsWith('Bearer ')) throw unauthenticated();
  const match = TOKEN_PATTERN.exec(authorization.slice(7).trim());
  if (!match) throw unauthenticated();
  const [, id, secretText] = match;
  const row = await tokenRow(db, id!);
  let presented: Uint8Array;
  try {
    // Hashed even when the id is unknown, so both paths take the same time.
    presented = sha256(base64urlnopad.decode(secretText!));
  } catch {
    throw unauthenticated();
  }
  if (!row || !constantTimeEqual(presented, row.secret_hash)) throw unauthenticated();
  // A row written without the vault key (an added admin token, a widened one) is refused like a
  // wrong secret: the caller learns nothing more; the operator's log says CONTROL_PLANE_TAMPERED.
  const cp = controlPlane ?? (await controlPlaneOf(db));
  const info = checkedInfo(row, cp);
  if (info.tampered) throw unauthenticated();
  if (row.revoked_at || Date.parse(row.expires_at) <= clock.now().getTime()) throw unauthenticated();
  // Revoked in the audit log, not in the row (put back with its old MAC): refused the same way.
  if (await revokedInLog(db, row, cp)) throw unauthenticated();
  return {
    tokenId: info.id,
    label: info.label,
    role: info.role,
    identity: info.identity,
    capabilities: info.capabilities,
    expiresAt: new Date(info.expiresAt),
  };
}

/**
 * Whether a token may still stand behind a request (hold release): present, MAC intact, not
 * revoked (in its row or in the audit log), not expired. For callers that hold a request's token
 * id rather than its secret.
 */
export async function tokenStillValid(db: Db, id: string, now: Date, controlPlane?: ControlPlane) {
  const row = await tokenRow(db, id);
  if (!row) return false;
  const cp = controlPlane ?? (await controlPlaneOf(db));
  const info = checkedInfo(row, cp);
  if (info.tampered || row.revoked_at || Date.parse(row.expires_at) <= now.getTime()) return false;
  return !(await revokedInLog(db, row, cp));
}
