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
import type { Policy, PolicyFormat } from '../policy/index.ts';
import { POLICY_LANGUAGE, POLICY_TEMPLATES } from '../protocols/policy-language.ts';

/** Parses a policy document in the language of the registered protocols (POLICY_INVALID if bad). */
export function parsePolicy(text: string, format?: PolicyFormat): Policy {
  return POLICY_LANGUAGE.parse(text, format);
}

/** The JSON Schema of policy documents, with the facets and caps of the registered protocols. */
export function policyJsonSchema(): Record<string, unknown> {
  return POLICY_LANGUAGE.jsonSchema();
}

import { committedReadsOf } from '../store/committed-reads.ts';
import type { PolicyTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import { type ControlPlane, controlPlaneOf, type WitnessView } from './control-plane.ts';

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

type Chosen =
  | { row: PolicyTable; source: 'identity' | 'default' }
  | { row: null; source: 'built-in deny-all' }
  | { tampered: { identity: string; reason: ControlPlaneFinding['reason'] } };

/**
 * Which row applies, judged against the audit log's last `policy.set` per identity: an identity
 * the log says has its own policy never falls back to the default when its row is gone, and a
 * row (MAC intact) whose hash is not the last one set is an older version put back.
 */
function choose(identity: string, rows: PolicyTable[], witness: WitnessView): Chosen {
  for (const [key, source] of [
    [identity, 'identity'],
    [DEFAULT_POLICY_KEY, 'default'],
  ] as const) {
    const row = rows.find((r) => r.identity === key);
    const last = witness.policy(key);
    if (row)
      return last === row.hash ? { row, source } : { tampered: { identity: key, reason: 'rolled-back' } };
    if (last !== undefined) return { tampered: { identity: key, reason: 'deleted' } };
  }
  return { row: null, source: 'built-in deny-all' };
}

function tampered(cp: ControlPlane, identity: string, reason: ControlPlaneFinding['reason']): LoadedPolicy {
  cp.report({ code: CONTROL_PLANE_TAMPERED, table: 'policy', id: identity, reason });
  return {
    ...builtIn(TAMPERED_POLICY, 'tampered'),
    problem: { code: 'POLICY_TAMPERED', identity, reason },
  };
}

/**
 * The policy that applies to an identity: its own, else the default, else deny everything. The
 * row used must pass its MAC and be the last one the audit log says was set, and a row the log
 * says exists must be there; otherwise the identity gets the tampered deny-all (fail secure: no
 * fallback to the default or an older policy, either of which may be looser than what was set).
 * The log is asked through the in-memory witness (control-plane.ts): a disagreement counts only
 * once the log's newest records and then the rows were read again, since a policy may just have
 * been set (by another process, or by a transaction this one's reads did not wait for).
 */
export async function loadPolicy(
  db: Db,
  identity: string,
  controlPlane?: ControlPlane,
): Promise<LoadedPolicy> {
  const cp = controlPlane ?? (await controlPlaneOf(db));
  // The log's word before the rows: rows read after it are never older than what it says, so a
  // policy set in between reads as newer than the log (looked at again below), never as a rollback.
  let chosen = judged(cp, identity, await policyRows(db, identity), await cp.witness(db));
  if ('tampered' in chosen) {
    const fresh = await cp.witness(db, true);
    chosen = judged(cp, identity, await policyRows(db, identity), fresh);
  }
  if ('loaded' in chosen) return chosen.loaded;
  if ('tampered' in chosen) return tampered(cp, chosen.tampered.identity, chosen.tampered.reason);
  if (!chosen.row) return builtIn(POLICY_TEMPLATES['deny-all']!, 'built-in deny-all');
  return {
    policy: parseCached(chosen.row.document, chosen.row.hash),
    source: chosen.source,
    hash: chosen.row.hash,
    document: chosen.row.document,
  };
}

/** The identity's row and the default's, as committed (read for every request). */
async function policyRows(db: Db, identity: string): Promise<PolicyTable[]> {
  const reads = committedReadsOf(db);
  if (reads)
    return reads.all<PolicyTable>('SELECT * FROM policy WHERE identity IN (?, ?)', [
      identity,
      DEFAULT_POLICY_KEY,
    ]);
  return db
    .selectFrom('policy')
    .selectAll()
    .where('identity', 'in', [identity, DEFAULT_POLICY_KEY])
    .execute();
}

/**
 * The row that applies, judged: the MAC first (a row written without the vault key is refused
 * whatever the log says, at once), then against the log (choose).
 */
function judged(
  cp: ControlPlane,
  identity: string,
  rows: PolicyTable[],
  witness: WitnessView,
): Chosen | { loaded: LoadedPolicy } {
  const first =
    rows.find((r) => r.identity === identity) ?? rows.find((r) => r.identity === DEFAULT_POLICY_KEY);
  const reason = first ? cp.rowProblem('policy', first.identity, first, policyRowProblem) : null;
  if (first && reason) return { loaded: tampered(cp, first.identity, reason) };
  return choose(identity, rows, witness);
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
