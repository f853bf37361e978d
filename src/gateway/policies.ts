import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../core/bytes.ts';
import type { Clock } from '../core/clock.ts';
import { POLICY_TEMPLATES, type Policy, parsePolicy } from '../policy/index.ts';
import type { Db } from '../store/store.ts';

/** `*` holds the default policy, used by identities that have none of their own. */
export const DEFAULT_POLICY_KEY = '*';

export interface LoadedPolicy {
  policy: Policy;
  source: 'identity' | 'default' | 'built-in deny-all';
  hash: string;
  document: string;
}

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

/** The policy that applies to an identity: its own, else the default, else deny everything. */
export async function loadPolicy(db: Db, identity: string): Promise<LoadedPolicy> {
  const rows = await db
    .selectFrom('policy')
    .selectAll()
    .where('identity', 'in', [identity, DEFAULT_POLICY_KEY])
    .execute();
  const own = rows.find((r) => r.identity === identity);
  const row = own ?? rows.find((r) => r.identity === DEFAULT_POLICY_KEY);
  if (!row) {
    const document = POLICY_TEMPLATES['deny-all']!;
    const hash = policyHash(document);
    return { policy: parseCached(document, hash), source: 'built-in deny-all', hash, document };
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
): Promise<LoadedPolicy> {
  const policy = parsePolicy(document);
  const hash = policyHash(document);
  const row = { identity, document, hash, set_at: clock.now().toISOString(), set_by: actor };
  await tx
    .insertInto('policy')
    .values(row)
    .onConflict((oc) =>
      oc.column('identity').doUpdateSet({ document, hash, set_at: row.set_at, set_by: actor }),
    )
    .execute();
  parsed.set(hash, policy);
  return { policy, source: identity === DEFAULT_POLICY_KEY ? 'default' : 'identity', hash, document };
}
