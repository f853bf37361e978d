import { utf8 } from '../core/bytes.ts';

/**
 * A request's payload (it may hold content) is sealed with the audit details key, bound to its
 * request id, and kept only while it may still be signed: held, or risk-denied and acceptable.
 */
export function payloadAad(requestId: string): Uint8Array {
  return utf8(`warden/request-payload/v1/${requestId}`);
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
