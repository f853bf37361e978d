import type { Kysely, Migration } from 'kysely';

/**
 * The Lightning module's tables: the payment hashes handed to a backend (payments.ts) and the
 * invoices identities made (invoice/made.ts).
 */
export const LIGHTNING_MIGRATIONS: Readonly<Record<string, Migration>> = {
  'lightning/0001_payment': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('lightning_payment')
        // The primary key is the guarantee: one payment per hash, across identities and requests.
        .addColumn('payment_hash', 'text', (c) => c.primaryKey())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  'lightning/0002_invoice': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('lightning_invoice')
        // A node makes one invoice per hash: the hash names the invoice, the identity owns it.
        .addColumn('payment_hash', 'text', (c) => c.primaryKey())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('amount_msat', 'text', (c) => c.notNull())
        // What the payer was handed (not a secret): a lookup shows it, and its description, again.
        .addColumn('bolt11', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
