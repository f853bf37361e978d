import type { ErrorCode } from '../../core/errors.ts';
import type { Intent, IntentAction, Protocol } from '../../core/intent.ts';
import type { Capability } from '../../core/principal.ts';
import type { Spent } from '../ledger.ts';

/** How an execution ended, and so what becomes of its reservation. */
export type ExecutionOutcome =
  /**
   * Signed (and broadcast when asked): the reservation is committed. `spent` when the network
   * already told what the operation cost (a receipt); absent, the worst-case fee stays booked
   * until it is known (reconcile --from-chain).
   */
  | { status: 'done'; result: Record<string, unknown>; spent?: Spent }
  /** Certainly did not happen: the reservation is released. */
  | { status: 'failed'; code: ErrorCode; message: string }
  /** May have happened (timeout, crash): the reservation keeps counting until reconciled. */
  | { status: 'unknown'; code: ErrorCode; message: string; result?: Record<string, unknown> };

/**
 * One protocol operation behind the one path: parse hostile input, make the Intent, and execute
 * once the policy allowed it. Parsed requests are encoded to bytes so held ones survive restarts.
 */
export interface ProtocolHandler<P> {
  readonly operation: string;
  readonly capability: Capability;
  readonly protocol: Protocol;
  readonly action: IntentAction;
  parse(body: unknown, now: Date): P;
  idempotencyKey(parsed: P): string | null;
  /** Hex SHA-256 of what the request commits to; a retry with the same idempotency key must match it. */
  digest(parsed: P): string;
  toIntent(identity: string, parsed: P): Promise<Intent>;
  /**
   * What an approver reads: the full decoded payload as it will be signed (the approval's intent
   * hash commits to it) and one line in words pointing at what it redirects.
   */
  review(parsed: P, intent: Intent): { payload: Record<string, unknown>; summary: string };
  encode(parsed: P): Uint8Array;
  decode(bytes: Uint8Array): P;
  execute(identity: string, parsed: P, intent: Intent, requestId: string): Promise<ExecutionOutcome>;
}
