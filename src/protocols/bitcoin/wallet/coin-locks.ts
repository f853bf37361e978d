/**
 * Coins a send in flight is spending: locked before its transaction is signed (in the store
 * transaction that records it), so that concurrent sends never pick the same coin; released when
 * the send certainly failed, and otherwise kept: a spent coin never comes back (but in a reorg,
 * where keeping it locked is the safe side), and a backend that briefly lists fewer coins must not
 * free a coin that a transaction in flight spends.
 */
import type { Kysely, Transaction } from 'kysely';
import type { BitcoinTables } from '../tables.ts';

type Db = Kysely<BitcoinTables> | Transaction<BitcoinTables>;

export interface Outpoint {
  txid: string;
  vout: number;
}

export const outpointKey = (o: Outpoint) => `${o.txid}:${o.vout}`;

export async function lockedOutpoints(db: Db, identity: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('bitcoin_coin_lock')
    .select(['txid', 'vout'])
    .where('identity', '=', identity)
    .execute();
  return new Set(rows.map((r) => outpointKey({ txid: r.txid, vout: Number(r.vout) })));
}

/** Locks `coins` for `requestId`; the primary key refuses a coin another request holds. */
export async function lockCoins(
  db: Db,
  identity: string,
  requestId: string,
  coins: readonly Outpoint[],
  at: string,
): Promise<void> {
  if (coins.length === 0) return;
  await db
    .insertInto('bitcoin_coin_lock')
    .values(
      coins.map((c) => ({ txid: c.txid, vout: c.vout, identity, request_id: requestId, locked_at: at })),
    )
    .execute();
}

export async function releaseLocks(db: Db, requestId: string): Promise<number> {
  const result = await db
    .deleteFrom('bitcoin_coin_lock')
    .where('request_id', '=', requestId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
