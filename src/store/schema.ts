import type { Generated } from 'kysely';

/** Typed tables of the store. Callers use these types, never SQL dialect specifics. */
export interface MetaTable {
  key: string;
  value: string;
}

export interface AuditLogTable {
  seq: number;
  time: string;
  actor: string;
  identity: string | null;
  action: string;
  outcome: string;
  summary: string;
  details: Uint8Array | null;
  prev_hash: Uint8Array;
  record_hash: Uint8Array;
}

export interface AuditCheckpointTable {
  id: Generated<number>;
  seq: number;
  record_hash: Uint8Array;
  time: string;
  key_id: string;
  signature: Uint8Array;
}

export interface PolicyTable {
  identity: string;
  document: string;
  hash: string;
  set_at: string;
  set_by: string;
  /** HMAC of the row under the vault's control-plane key (audit/control-plane.ts); null only before 0005. */
  mac: Uint8Array | null;
}

export interface TokenTable {
  id: string;
  secret_hash: Uint8Array;
  role: string;
  identity: string | null;
  capabilities: string;
  label: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  /** HMAC of the row under the vault's control-plane key (audit/control-plane.ts); null only before 0005. */
  mac: Uint8Array | null;
}

/**
 * A Nostr Wallet Connect connection (api/nwc/): a principal of one identity, authenticated by the
 * client key whose secret was printed once in its URI. Only the public keys are kept: the service
 * key is derived from the vault (keys/nwc-service-key.ts), the client's secret is never stored.
 */
export interface NwcConnectionTable {
  id: string;
  identity: string;
  label: string;
  /** x-only hex of the client's key (the URI's `secret`): requests are signed by it. */
  client_pubkey: string;
  /** x-only hex of this connection's wallet service key (the URI's host part). */
  service_pubkey: string;
  /** JSON list of the NIP-47 methods it may call. */
  methods: string;
  /** JSON list of the encryptions it accepts (`nip44_v2`, and `nip04` only when asked by name). */
  encryptions: string;
  /** JSON list of the relay URLs it listens on. */
  relays: string;
  /** Its own budget: asset, amount (decimal base units) and policy window; all null for none. */
  budget_asset: string | null;
  budget_max: string | null;
  budget_window: string | null;
  /** How long a payment held for approval may keep the client waiting before it answers. */
  hold_wait_seconds: number;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  mac: Uint8Array;
}

/** NIP-47 request events already taken: a replayed one is answered once (kept for a while). */
export interface NwcEventTable {
  event_id: string;
  connection_id: string;
  received_at: number;
}

export interface RequestTable {
  id: string;
  identity: string;
  token_id: string;
  protocol: string;
  action: string;
  /** The operation's registry name (`nostr.sign_event`): what the request is opened and run with. */
  operation: string;
  intent: string;
  intent_hash: string;
  payload: Uint8Array | null;
  idempotency_key: string | null;
  status: string;
  decision: string;
  hold_approvals: number;
  hold_delay_ms: number;
  result: string | null;
  error_code: string | null;
  /** When a send waiting for its jitter delay is due (ISO); null when nothing waits. */
  scheduled_for: string | null;
  /** The executor (store/executor-lock.ts) that moved it to `executing`; null before 0012 and for what never executed. */
  executor: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApprovalTable {
  request_id: string;
  operator: string;
  verdict: string;
  intent_hash: string;
  reason: string | null;
  at: string;
  /** HMAC under the control-plane key (gateway/approval-mac.ts): an approval only the vault can write. */
  mac: Uint8Array | null;
}

export interface LedgerTable {
  id: string;
  request_id: string;
  identity: string;
  protocol: string;
  action: string;
  asset: string;
  destination: string | null;
  /** The facets policy windows match on, as canonical JSON (`{"chain_id":42161}`). */
  facets: string;
  amount: string;
  /**
   * The fee in the same asset, decimal text: the worst case booked at reserve, then the fee
   * actually paid once known. Value windows count amount + fee.
   */
  fee: string;
  /** 1 when `fee` is what was paid (or nothing is to be paid); 0 while it is the worst case. */
  fee_final: number;
  at: number;
  status: string;
  updated_at: string;
  /** Global and increasing: set from the highest version + 1 on every insert and status change. */
  version: number;
}

/** A text stored once by its SHA-256 (store/content.ts). */
export interface ContentTable {
  hash: string;
  body: string;
}

export interface Schema {
  meta: MetaTable;
  audit_log: AuditLogTable;
  audit_checkpoint: AuditCheckpointTable;
  policy: PolicyTable;
  token: TokenTable;
  request: RequestTable;
  approval: ApprovalTable;
  ledger: LedgerTable;
  nwc_connection: NwcConnectionTable;
  nwc_event: NwcEventTable;
  content: ContentTable;
}
