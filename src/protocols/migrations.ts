/**
 * Every protocol module's own migrations, for the store's one name order, without loading the
 * modules themselves: opening the store (every CLI command does) must not pull in what the
 * operations need (viem, the policy language). test/protocols/migrations.test.ts checks that
 * this table is exactly what the registry's modules declare.
 */
import type { Migration } from 'kysely';
import { BITCOIN_MIGRATIONS } from './bitcoin/migrations.ts';
import { EVM_MIGRATIONS } from './evm/migrations.ts';
import { LIGHTNING_MIGRATIONS } from './lightning/migrations.ts';

export const PROTOCOL_MIGRATIONS: Readonly<Record<string, Migration>> = {
  // In name order, the order they apply in (the store's test holds the declaration to it).
  ...BITCOIN_MIGRATIONS,
  ...EVM_MIGRATIONS,
  ...LIGHTNING_MIGRATIONS,
};
