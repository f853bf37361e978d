import type { Kysely, Migration } from 'kysely';

/** The Lightning module's tables: the payment hashes handed to a backend (payments.ts). */
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
};
