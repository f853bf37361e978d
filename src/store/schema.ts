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

export interface Schema {
  meta: MetaTable;
  audit_log: AuditLogTable;
  audit_checkpoint: AuditCheckpointTable;
}
