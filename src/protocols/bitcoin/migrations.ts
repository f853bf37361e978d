import type { Kysely, Migration } from 'kysely';

/**
 * The Bitcoin module's tables: the registered 2-of-3 wallets (multisig/registry.ts), the addresses
 * handed out and the coins locked by sends in flight (wallet/address-book.ts, wallet/coin-locks.ts).
 */
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
  'bitcoin/0002_wallet': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('bitcoin_address')
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('chain', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        // The request that handed it out (new_address) or made it change (send).
        .addColumn('request_id', 'text', (c) => c.notNull())
        // 1 once a coin was seen paying it: the gap limit counts the unused ones after the last used.
        .addColumn('used', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('bitcoin_address_pk', ['identity', 'account', 'chain', 'idx'])
        .execute();
      await db.schema
        .createTable('bitcoin_coin_lock')
        .addColumn('txid', 'text', (c) => c.notNull())
        .addColumn('vout', 'integer', (c) => c.notNull())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('locked_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('bitcoin_coin_lock_pk', ['txid', 'vout'])
        .execute();
      await db.schema
        .createIndex('bitcoin_coin_lock_request')
        .on('bitcoin_coin_lock')
        .column('request_id')
        .execute();
    },
  },
};
