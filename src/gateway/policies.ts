import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  CONTROL_PLANE_TAMPERED,
  type ControlPlaneFinding,
  policyMacMessage,
  policyRowProblem,
} from '../audit/control-plane.ts';
import { utf8 } from '../core/bytes.ts';
import type { Clock } from '../core/clock.ts';
import { POLICY_TEMPLATES, type Policy, parsePolicy } from '../policy/index.ts';
import type { PolicyTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import { type ControlPlane, controlPlaneOf } from './control-plane.ts';

/** `*` holds the default policy, used by identities that have none of their own. */
export const DEFAULT_POLICY_KEY = '*';

export interface LoadedPolicy {
  policy: Policy;
  source: 'identity' | 'default' | 'built-in deny-all' | 'tampered';
  hash: string;
  document: string;
  /** Set when the stored policy failed its MAC: `policy` is then the tampered deny-all below. */
  problem?: { code: 'POLICY_TAMPERED'; identity: string; reason: ControlPlaneFinding['reason'] };
}

/**
 * What applies in place of a stored policy that fails its MAC: everything is refused (never the
 * default or a looser policy), and the rule trail names why.
 */
const TAMPERED_POLICY = `version: 1
name: policy-tampered
description: POLICY_TAMPERED - the stored policy fails its integrity check; set it again
rules:
  - id: policy-tampered
    description: POLICY_TAMPERED - the stored policy was written without the vault key
    effect: deny
`;

const parsed = new Map<string, Policy>();

function parseCached(document: string, hash: string): Policy {
  let policy = parsed.get(hash);
  if (!policy) {
    policy = parsePolicy(document);
    if (parsed.size > 1000) parsed.clear();
    parsed.set(hash, policy);
  }
  return policy;
}

export function policyHash(document: string): string {
  return bytesToHex(sha256(utf8(document)));
}

function builtIn(document: string, source: 'built-in deny-all' | 'tampered'): LoadedPolicy {
  const hash = policyHash(document);
  return { policy: parseCached(document, hash), source, hash, document };
}

/**
 * The policy that applies to an identity: its own, else the default, else deny everything. The
 * row used must pass its MAC; if it does not, the identity gets the tampered deny-all (fail
 * secure: no fallback to the default, which would be looser than what was set).
 */
export async function loadPolicy(
  db: Db,
  identity: string,
  controlPlane?: ControlPlane,
): Promise<LoadedPolicy> {
  const rows: PolicyTable[] = await db
    .selectFrom('policy')
    .selectAll()
    .where('identity', 'in', [identity, DEFAULT_POLICY_KEY])
    .execute();
  const own = rows.find((r) => r.identity === identity);
  const row = own ?? rows.find((r) => r.identity === DEFAULT_POLICY_KEY);
  if (!row) return builtIn(POLICY_TEMPLATES['deny-all']!, 'built-in deny-all');
  const cp = controlPlane ?? (await controlPlaneOf(db));
  const reason = policyRowProblem(cp.mac, row);
  if (reason) {
    cp.report({ code: CONTROL_PLANE_TAMPERED, table: 'policy', id: row.identity, reason });
    return {
      ...builtIn(TAMPERED_POLICY, 'tampered'),
      problem: { code: 'POLICY_TAMPERED', identity: row.identity, reason },
    };
  }
  return {
    policy: parseCached(row.document, row.hash),
    source: own ? 'identity' : 'default',
    hash: row.hash,
    document: row.document,
  };
}

/** Validates and stores a policy document (the caller audits it in the same transaction). */
export async function storePolicy(
  tx: Db,
  identity: string,
  document: string,
  actor: string,
  clock: Clock,
  cp: ControlPlane,
): Promise<LoadedPolicy> {
  const policy = parsePolicy(document);
  const hash = policyHash(document);
  const fields = { identity, document, hash, set_at: clock.now().toISOString(), set_by: actor };
  const row = { ...fields, mac: cp.mac.mac(policyMacMessage(fields)) };
  await tx
    .insertInto('policy')
    .values(row)
    .onConflict((oc) => oc.column('identity').doUpdateSet({ ...row }))
    .execute();
  parsed.set(hash, policy);
  return { policy, source: identity === DEFAULT_POLICY_KEY ? 'default' : 'identity', hash, document };
}
