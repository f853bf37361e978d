import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The EVM module's tables. Databases from before the module had its own migrations already have
 * the nonce table (with its address column): it is created only where it is missing.
 */
export const EVM_MIGRATIONS: Readonly<Record<string, Migration>> = {
  'evm/0001_nonce': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('evm_nonce')
        .ifNotExists()
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('chain_id', 'integer', (c) => c.notNull())
        .addColumn('next_nonce', 'integer', (c) => c.notNull())
        // Nonces belong to a sending address: after a seed rotation the identity's new address
        // starts its own sequence instead of inheriting the old one.
        .addColumn('address', 'text', (c) => c.notNull().defaultTo(''))
        .addPrimaryKeyConstraint('evm_nonce_pk', ['identity', 'chain_id'])
        .execute();
      // Sanity: an older table must have the address column its 0003 migration added.
      await sql`SELECT address FROM evm_nonce LIMIT 0`.execute(db);
    },
  },
};
