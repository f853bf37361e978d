import type { Kysely, Migration } from 'kysely';

/** The Bitcoin module's tables: the registered 2-of-3 wallets (multisig/registry.ts). */
export const BITCOIN_MIGRATIONS: Readonly<Record<string, Migration>> = {
  'bitcoin/0001_multisig': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('bitcoin_multisig')
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('network', 'text', (c) => c.notNull())
        // The three keys in descriptor order (canonical JSON) and which one is Warden's.
        .addColumn('keys', 'text', (c) => c.notNull())
        .addColumn('warden_index', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        // HMAC under the vault's control-plane key: a row only the vault can write.
        .addColumn('mac', 'blob')
        .addPrimaryKeyConstraint('bitcoin_multisig_pk', ['identity', 'name'])
        .execute();
    },
  },
};
