/** The Lightning module's own tables (migrations.ts creates them), as Kysely sees them. */
import type { Kysely } from 'kysely';

/**
 * One row per payment hash Warden ever handed to a backend: what keeps an invoice from being paid
 * twice, whatever the idempotency key. `pending` (handed over, end not known), `succeeded`, or
 * `failed` (certainly not paid: the hash may be paid again, by a new request).
 */
export interface LightningPaymentTable {
  payment_hash: string;
  identity: string;
  request_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  updated_at: string;
}

/**
 * One row per invoice an identity made through Warden: only these may be looked up, and only by
 * the identity that made them (a node shared by identities holds everyone's invoices).
 */
export interface LightningInvoiceTable {
  payment_hash: string;
  identity: string;
  request_id: string;
  amount_msat: string;
  /** The invoice as handed to the payer (its description is in it). */
  bolt11: string;
  created_at: string;
  expires_at: string;
}

export interface LightningTables {
  lightning_payment: LightningPaymentTable;
  lightning_invoice: LightningInvoiceTable;
}
export type LightningDb = Kysely<LightningTables>;
