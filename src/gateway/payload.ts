import { utf8 } from '../core/bytes.ts';

/**
 * A request's payload (it may hold content) is sealed with the audit details key and kept only
 * while it may still be signed: held, or risk-denied and acceptable. The seal binds it to the row
 * columns that decide whether and what it signs: its id, its intent hash (which commits to the
 * judged intent, so the clear `intent` column cannot be edited either), and how it was admitted:
 * the hold's approvals, delay and start, or a risk denial. A process that can write the database
 * but has no vault key cannot redirect a held send, lower a hold's approvals or delay, or turn a
 * risk denial into a hold: the payload then fails to open and nothing is signed.
 */
export interface SealedColumns {
  id: string;
  intent_hash: string;
  status: string;
  hold_approvals: number;
  hold_delay_ms: number;
  created_at: string;
}

export function payloadAad(row: SealedColumns): Uint8Array {
  const admission =
    row.status === 'denied'
      ? 'risk-denied'
      : `hold/${row.hold_approvals}/${row.hold_delay_ms}/${row.created_at}`;
  return utf8(`warden/request-payload/v2/${row.id}/${row.intent_hash}/${admission}`);
}

/** Held requests one identity may have waiting at once: holds reserve budget and cost scheduler work. */
export const MAX_PENDING_HOLDS = 100;

/**
 * Risk-denied requests of one identity whose payload is kept for an operator to accept. Past
 * this, a denial keeps only its intent and decision (a flooding agent cannot grow the database).
 */
export const MAX_ACCEPTABLE_DENIALS = 100;

/** A held request expires (and its reservation is released) if not released within this time. */
export const HOLD_EXPIRY_MS = 7 * 24 * 60 * 60 * 1000;

/** A risk denial may be accepted no later than a hold may wait; then its payload is dropped. */
export const RISK_ACCEPT_WINDOW_MS = HOLD_EXPIRY_MS;
