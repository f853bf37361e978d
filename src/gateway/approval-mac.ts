import { asBytes } from '../audit/rows.ts';
import { utf8 } from '../core/bytes.ts';
import { canonicalJson } from '../core/canonical.ts';
import type { ApprovalTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import { controlPlaneOf } from './control-plane.ts';

/**
 * Approvals are control-plane rows: an approval or veto counts only if its row carries a MAC
 * under the vault's control-plane key over everything that makes it count (request, operator,
 * verdict, the intent hash it is bound to, when). A row inserted or edited by a process without
 * the passphrase never releases a held request.
 */
const DOMAIN = 'warden/control-plane/approval/v1\n';

type ApprovalFields = Omit<ApprovalTable, 'mac'>;

function message(row: ApprovalFields): Uint8Array {
  return utf8(
    DOMAIN +
      canonicalJson({
        requestId: row.request_id,
        operator: row.operator,
        verdict: row.verdict,
        intentHash: row.intent_hash,
        reason: row.reason,
        at: row.at,
      }),
  );
}

export async function approvalMac(db: Db, row: ApprovalFields): Promise<Uint8Array> {
  return (await controlPlaneOf(db)).mac.mac(message(row));
}

/** The approvals of one request split into those that verify and those that do not. */
export async function checkedApprovals(
  db: Db,
  rows: ApprovalTable[],
): Promise<{ valid: ApprovalTable[]; forged: ApprovalTable[] }> {
  if (rows.length === 0) return { valid: [], forged: [] };
  const { mac } = await controlPlaneOf(db);
  const valid: ApprovalTable[] = [];
  const forged: ApprovalTable[] = [];
  for (const row of rows)
    (mac.verify(message(row), row.mac ? asBytes(row.mac) : null) ? valid : forged).push(row);
  return { valid, forged };
}
