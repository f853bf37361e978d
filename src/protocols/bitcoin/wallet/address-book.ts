/**
 * The addresses Warden handed out (new_address) or made change (send), per identity, account and
 * chain: an index is never handed out twice, and no more receive addresses than the gap limit
 * stand unused after the last used one, so that a wallet restored from the seed (which looks 20
 * past the last used address, BIP-44) finds every coin.
 */
import type { Kysely, Transaction } from 'kysely';
import type { AccountName, Chain } from '../accounts.ts';
import type { BitcoinTables } from '../tables.ts';

export const GAP_LIMIT = 20;

export interface IssuedAddress {
  account: AccountName;
  chain: Chain;
  index: number;
  address: string;
  used: boolean;
}

type Db = Kysely<BitcoinTables> | Transaction<BitcoinTables>;

/** The next index of (identity, account, chain): one past the highest ever handed out. */
export async function nextIndex(
  db: Db,
  identity: string,
  account: AccountName,
  chain: Chain,
): Promise<number> {
  const row = await db
    .selectFrom('bitcoin_address')
    .select((eb) => eb.fn.max('idx').as('top'))
    .where('identity', '=', identity)
    .where('account', '=', account)
    .where('chain', '=', chain)
    .executeTakeFirst();
  const top = row?.top;
  return top === null || top === undefined ? 0 : Number(top) + 1;
}

export async function recordAddress(
  db: Db,
  identity: string,
  a: { account: AccountName; chain: Chain; index: number; address: string },
  by: { requestId: string; at: string },
): Promise<void> {
  await db
    .insertInto('bitcoin_address')
    .values({
      identity,
      account: a.account,
      chain: a.chain,
      idx: a.index,
      address: a.address,
      issued_at: by.at,
      request_id: by.requestId,
      used: 0,
    })
    .execute();
}

export async function issuedAddresses(db: Db, identity: string): Promise<IssuedAddress[]> {
  const rows = await db
    .selectFrom('bitcoin_address')
    .select(['account', 'chain', 'idx', 'address', 'used'])
    .where('identity', '=', identity)
    .orderBy('account')
    .orderBy('chain')
    .orderBy('idx')
    .execute();
  return rows.map((r) => ({
    account: r.account as AccountName,
    chain: r.chain as Chain,
    index: Number(r.idx),
    address: r.address,
    used: Number(r.used) === 1,
  }));
}

export async function markUsed(db: Db, identity: string, addresses: readonly string[]): Promise<void> {
  if (addresses.length === 0) return;
  await db
    .updateTable('bitcoin_address')
    .set({ used: 1 })
    .where('identity', '=', identity)
    .where('address', 'in', [...addresses])
    .execute();
}

/** The receive addresses of `account` handed out after its last used one. */
export function unusedAfterLastUsed(issued: readonly IssuedAddress[], account: AccountName): IssuedAddress[] {
  const receive = issued
    .filter((a) => a.account === account && a.chain === 0)
    .sort((a, b) => a.index - b.index);
  let lastUsed = -1;
  for (const [i, a] of receive.entries()) if (a.used) lastUsed = i;
  return receive.slice(lastUsed + 1);
}
