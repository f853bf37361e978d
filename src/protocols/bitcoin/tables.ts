/** The Bitcoin module's own tables (migrations.ts creates them), as Kysely sees them. */
import type { Kysely } from 'kysely';

export interface BitcoinMultisigTable {
  identity: string;
  name: string;
  network: string;
  keys: string;
  warden_index: number;
  created_at: string;
  created_by: string;
  mac: Uint8Array | null;
}

/** The tables of the Bitcoin module, all it may read or write. */
export interface BitcoinTables {
  bitcoin_multisig: BitcoinMultisigTable;
  bitcoin_address: BitcoinAddressTable;
  bitcoin_coin_lock: BitcoinCoinLockTable;
}
export type BitcoinDb = Kysely<BitcoinTables>;

export interface BitcoinAddressTable {
  identity: string;
  account: string;
  chain: number;
  idx: number;
  address: string;
  issued_at: string;
  request_id: string;
  used: number;
}

export interface BitcoinCoinLockTable {
  txid: string;
  vout: number;
  identity: string;
  request_id: string;
  locked_at: string;
}
