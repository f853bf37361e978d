/**
 * A protocol module: everything of one protocol behind one object, registered in registry.ts.
 * The gateway knows modules only through this shape: their operations, their tables' migrations,
 * the backend their configuration names, and what reconcile asks of that backend.
 */
import type { Migration } from 'kysely';
import type { Canonical } from '../core/canonical.ts';
import type { SignerKind, SignerOf } from '../keys/capabilities.ts';
import type { ControlPlaneMac } from '../keys/control-plane-key.ts';
import type { IdentityView } from '../keys/view.ts';
import type { AnyOperation, Spent } from './operation.ts';

/** A request whose outcome is not known, with what its execution put on record before sending. */
export interface PendingRequest {
  requestId: string;
  identity: string;
  /** The request's recorded result (JSON), or null when nothing was recorded. */
  result: unknown;
  /**
   * True when the process that executed it is gone (killed) and the request was taken over
   * (gateway/orphans.ts): it can no longer send anything it had not put on record. With nothing
   * on record, an operation that records before it sends (`recordBeforeSend`) never sent.
   */
  executorGone?: boolean;
}

/** What a backend says of a request whose outcome is not known. */
export type BackendVerdict =
  | { requestId: string; verdict: 'commit' | 'release'; reason: string; spent: Spent }
  /** Released without `spent`: nothing reached the network, nothing is counted (a Lightning payment that failed). */
  | { requestId: string; verdict: 'release'; reason: string; spent?: undefined }
  /** Certainly never reached its network: released, and what it had taken given back. */
  | { requestId: string; verdict: 'release'; reason: string; neverSent: true }
  | { requestId: string; verdict: 'unresolved'; reason: string };

/** A fee paid, learned from the backend after the commit (replaces the booked worst case). */
export interface FeeFinding {
  requestId: string;
  spent: Spent & { fee: bigint };
  reason: string;
}

/**
 * What reconcile lends a module besides its backend: its own tables, and a signer capability of
 * a request's identity (a backend credential to ask about a payment with), one call at a time.
 */
export interface ReconcileContext<T> {
  tables: T;
  signer<K extends SignerKind>(identity: string, kind: K): SignerOf<K>;
}

/** What reconcile asks of a module; every answer must be certain, or `unresolved`. */
export interface ReconcileHooks<B, T> {
  verdicts(
    requests: readonly PendingRequest[],
    backend: B | null,
    context?: ReconcileContext<T>,
  ): Promise<BackendVerdict[]>;
  /** Fees paid by committed requests still booked at their worst case; problems as `unresolved`. */
  feesPaid(
    requests: readonly PendingRequest[],
    backend: B | null,
  ): Promise<{ found: FeeFinding[]; unresolved: BackendVerdict[] }>;
  /**
   * An operator released a request as not sent: give back what it had spent (an EVM nonce), in
   * the release's store transaction. Returns what to say in the audit record.
   */
  released(request: PendingRequest, tables: T): Promise<Record<string, Canonical>>;
}

/**
 * What an operator's action on a module's own state gets (registering a multisig wallet): one
 * identity's public keys, the module's tables (inside the transaction that also appends the
 * action's audit record, for an action that writes), the control-plane MAC its rows carry, and
 * the one signer capability it declared, for that identity (to read a public key off the seed).
 */
export interface AdminContext<T, S> {
  identity: string;
  publicKeys: IdentityView;
  tables: T;
  controlPlane: ControlPlaneMac;
  signer: S;
  /** Who acts (the operator's actor name) and when (ISO 8601). */
  actor: string;
  now: string;
}

/** An operator's action on a module's state: admin only; an action that writes is audited. */
export interface AdminAction<T = unknown, K extends SignerKind = SignerKind> {
  /** `<module>.<noun>.<verb>`: also the audit record's action. */
  readonly name: string;
  readonly writes: boolean;
  readonly signer: K;
  /** `args` is hostile (a front door's input): the action validates it. */
  run(args: unknown, ctx: AdminContext<T, SignerOf<K>>): Promise<{ result: Canonical; details: Canonical }>;
}
// biome-ignore lint/suspicious/noExplicitAny: the registry holds actions of every table type
export type AnyAdminAction = AdminAction<any, SignerKind>;

/** A code a module declares (its `errors.ts`): what it means, and its HTTP status. */
export interface ErrorCodeDeclaration {
  readonly httpStatus: number;
  readonly meaning: string;
}

/**
 * What a module's monitor reads its backend with: the identities whose credential it may borrow,
 * and the vault's signer capability for one of them, lent for one read (a node shared by several
 * identities, whose node-level state any of their credentials reads alike).
 */
export interface MonitorContext {
  identities: readonly IdentityView[];
  signer<K extends SignerKind>(identity: string, kind: K): SignerOf<K>;
}

/** A change for the worse a monitor saw (a channel depleted, a peer offline), for the operator. */
export interface MonitorAlertView {
  kind: string;
  message: string;
  [field: string]: Canonical;
}

/**
 * A module's live view of its backend (Lightning's channels): refreshed by a running server every
 * `periodMs`, read by `warden status` and by operators over HTTP (`path`), its alerts logged by
 * the gateway. Readings are JSON and hold no credential.
 */
export interface ModuleMonitor<B> {
  readonly path: string;
  periodMs(backend: B): number;
  refresh(backend: B, ctx: MonitorContext): Promise<Canonical>;
  last(backend: B): Canonical | null;
  onAlert(backend: B, listener: (alert: MonitorAlertView) => void): () => void;
}

export interface ProtocolModule<B = unknown, T = unknown> {
  readonly name: string;
  readonly operations: readonly AnyOperation[];
  /** Migrations of its own tables, named `<module>/<nnnn>_<what>`. */
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** Builds its backend from its configuration section; null when none is configured. */
  backend?(config: unknown): B | null;
  /** Operations that cannot run without a backend are not offered when there is none. */
  readonly needsBackend?: readonly string[];
  readonly reconcile?: ReconcileHooks<B, T>;
  /** Operators' actions on its own state (`bitcoin.multisig.create`). */
  readonly admin?: readonly AnyAdminAction[];
  /** Its own error codes (declared into core's ErrorCode type by its errors.ts). */
  readonly errorCodes?: Readonly<Record<string, ErrorCodeDeclaration>>;
  /** Its bigint facets (caps such as the max fee per gas): stored as text, read back as bigint. */
  readonly quantityFacets?: readonly string[];
  /** Its live view of its backend, when it keeps one (Lightning's channel monitor). */
  readonly monitor?: ModuleMonitor<B>;
}

/** A module of any backend and tables, as the registry holds them. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds modules of every backend type
export type AnyModule = ProtocolModule<any, any>;
