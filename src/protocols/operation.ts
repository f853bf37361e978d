/**
 * The seam every protocol operation plugs into. The gateway runs the one path (authenticate →
 * intent → risk → policy → reserve + audit → sign → settle) and calls an operation only at the
 * steps that need protocol knowledge: parse hostile input, build the Intent, describe it to an
 * approver, and execute once the policy allowed it. An operation never sees the Vault or the
 * Store: it gets a signer capability for exactly its identity and key, its module's backend, and
 * its module's own tables, through the contexts below.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { Intent, IntentAction, Protocol } from '../core/intent.ts';
import type { SignerKind, SignerOf } from '../keys/capabilities.ts';
import type { ControlPlaneMac } from '../keys/control-plane-key.ts';
import type { IdentityView } from '../keys/view.ts';

/**
 * What an operation is known to have spent, from its network (an EVM receipt): the fee paid (null
 * when the network did not say: the worst case stays booked), and whether its value moved (a
 * reverted EVM transaction pays its fee and moves nothing).
 */
export interface Spent {
  fee: bigint | null;
  valueMoved: boolean;
}

/** How an execution ended, and so what becomes of its reservation. */
export type ExecutionOutcome =
  /**
   * Signed (and broadcast when asked): the reservation is committed. `spent` when the network
   * already told what the operation cost (a receipt); absent, the worst-case fee stays booked
   * until it is known (reconcile).
   */
  | { status: 'done'; result: Record<string, unknown>; spent?: Spent }
  /** Certainly did not happen: the reservation is released. */
  | { status: 'failed'; code: ErrorCode; message: string }
  /** May have happened (timeout, crash): the reservation keeps counting until reconciled. */
  | { status: 'unknown'; code: ErrorCode; message: string; result?: Record<string, unknown> };

/**
 * What building an Intent may use: the identity's public keys, its module's backend, and its
 * module's own tables (read only here) with the control-plane MAC that authenticates rows of
 * them (a registered multisig wallet), so that what the vault did not write is never judged with.
 */
export interface IntentContext<B, T = unknown> {
  identity: string;
  publicKeys: IdentityView;
  /** The module's backend (an EVM node per chain), or null where none is configured. */
  backend: B | null;
  /** Absent where no store is open (a module's own unit tests): nothing is read from it then. */
  tables?: T;
  controlPlane?: ControlPlaneMac;
  /**
   * The smallest value any rule of the identity's policy gives a cap (`max_amount_jitter`), null
   * when none sets it: what an operation choosing a quantity before judgement (an amount jitter)
   * stays within, so that the policy it is then judged by cannot refuse its own choice. Absent
   * where no policy is loaded (a module's unit tests): such an operation refuses to choose.
   */
  policyCap?: (name: string) => bigint | null;
}

/**
 * What an execution gets, and nothing more: the one signer it declared (for this identity, this
 * request), its module's backend and tables, and two questions for the gateway. The request row
 * is written by the gateway only.
 */
export interface ExecutionContext<B, S, T> {
  requestId: string;
  identity: string;
  /** The identity's public keys (addresses to derive: a Bitcoin send's change). */
  publicKeys: IdentityView;
  signer: S;
  backend: B | null;
  /** The module's own tables (an EVM module's nonces); typed so no other table can be named. */
  tables: T;
  /** False once an operator reconciled the request while it waited (for a lock, a node). */
  stillExecuting(): Promise<boolean>;
  /**
   * Puts what is about to leave (a transaction hash) on the request's record before it leaves,
   * in one store transaction with the module's own state change (the nonce spent), so that a
   * crash after the broadcast can be reconciled and never reuses what was spent.
   */
  recordBeforeSend(result: Record<string, unknown>, state?: (tables: T) => Promise<void>): Promise<void>;
}

/** One line and the full decoded payload as it will be signed: what an approver reads. */
export interface OperationReview {
  payload: Record<string, unknown>;
  summary: string;
}

/**
 * One operation of one protocol, registered under its name (`nostr.sign_event`): the one key of
 * the request row, capabilities, HTTP routes, the OpenAPI document and MCP tools.
 */
export interface Operation<P = unknown, B = unknown, K extends SignerKind = SignerKind, T = unknown> {
  readonly name: string;
  /** Older names that still reach this operation (documented as aliases). */
  readonly aliases?: readonly string[];
  readonly protocol: Protocol;
  readonly action: IntentAction;
  /** The capability an agent token needs. */
  readonly capability: string;
  /** The one key capability execution needs, asked of keys/ for the request's identity. */
  readonly signer: K;
  /** `POST` route of the HTTP API, and older paths kept as aliases. */
  readonly http: { readonly path: string; readonly aliases?: readonly string[] };
  /** For people and models: what it does, in one line and in a paragraph. */
  readonly title: string;
  readonly description: string;
  /** JSON Schema (2020-12) of the request body: the OpenAPI document and MCP tools use it. */
  readonly requestSchema: Readonly<Record<string, unknown>>;
  /** JSON Schema of `result` when the request is done. */
  readonly resultSchema: Readonly<Record<string, unknown>>;
  parse(body: unknown, now: Date): P;
  idempotencyKey(parsed: P): string | null;
  /** Hex SHA-256 of what the request commits to; a retry with the same idempotency key must match it. */
  digest(parsed: P): string;
  toIntent(parsed: P, ctx: IntentContext<B, T>): Promise<Intent>;
  /** The approver's view; the approval's intent hash commits to `payload`. */
  review(parsed: P, intent: Intent, publicKeys: IdentityView): OperationReview;
  /** Parsed requests are encoded to bytes, so held ones survive restarts. */
  encode(parsed: P): Uint8Array;
  decode(bytes: Uint8Array): P;
  /**
   * An operation that signs locally (nothing leaves Warden) has `sign`: synchronous, so it runs
   * inside the transaction that admits the request, and the signature is released only after the
   * commit that records it. An operation that sends (a broadcast) has `execute` instead, which runs
   * between its admission and its settlement. Every operation has exactly one of the two.
   */
  sign?(parsed: P, intent: Intent, signer: SignerOf<K>): ExecutionOutcome;
  /**
   * The same signature made on the signing thread, if the operation can: the gateway uses it when
   * several requests share a transaction, which then stays open until their signatures are back
   * and recorded; the signature is still released only after that commit.
   */
  signOffThread?(parsed: P, intent: Intent, signer: SignerOf<K>): Promise<ExecutionOutcome> | null;
  /**
   * An executing operation that publishes nothing (reads a balance, derives an address) says so:
   * the timing jitter of sends (net/jitter.ts) is for what an observer of the network could time.
   */
  readonly publishesNothing?: true;
  /** Changes nothing, here or anywhere (a balance read): what MCP clients show as read-only. */
  readonly readOnly?: true;
  /**
   * Uses a credential yet nothing it does costs or binds anything that cannot be undone (a
   * Lightning invoice: a request to be paid, single use, that expires): what MCP clients show as
   * not destructive. Read-only operations are not destructive either.
   */
  readonly destructive?: false;
  execute?(parsed: P, intent: Intent, ctx: ExecutionContext<B, SignerOf<K>, T>): Promise<ExecutionOutcome>;
}

/** An operation of any shape, as the registry and the gateway hold them. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds operations of every parsed type
export type AnyOperation = Operation<any, any, SignerKind, any>;
