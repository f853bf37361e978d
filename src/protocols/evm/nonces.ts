import type { Kysely } from 'kysely';

/** The nonce each (identity, chain) sends with next: the EVM module's own table. */
export interface EvmNonceTable {
  identity: string;
  chain_id: number;
  next_nonce: number;
  /** The sending address the sequence belongs to (lower case). */
  address: string;
}

/** The tables of the EVM module, all it may read or write. */
export interface EvmTables {
  evm_nonce: EvmNonceTable;
}
export type EvmDb = Kysely<EvmTables>;

/** The transaction a nonce was spent on, as the EVM handler records it in the request's result. */
export interface SpentNonce {
  identity: string;
  chainId: number;
  /** The sending address (nonces belong to an address: a seed rotation starts a new sequence). */
  address: string;
  nonce: number;
}

/**
 * Records a nonce as spent (the next one is `nonce + 1`) before its transaction leaves, in the
 * caller's transaction, so a crash after the broadcast never reuses it.
 */
export async function spendNonce(tx: EvmDb, spent: SpentNonce): Promise<void> {
  const next = { next_nonce: spent.nonce + 1, address: spent.address };
  await tx
    .insertInto('evm_nonce')
    .values({ identity: spent.identity, chain_id: spent.chainId, ...next })
    .onConflict((oc) => oc.columns(['identity', 'chain_id']).doUpdateSet(next))
    .execute();
}

/**
 * Gives a nonce back when its transaction certainly never reached any mempool (the node refused
 * it, or an operator reconciled it as not sent), so the next send fills it instead of leaving a gap
 * that would block every later transaction. Only if nothing newer was taken since; otherwise the
 * gap stays and must be filled by hand. Returns whether the nonce was given back.
 */
export async function returnNonce(db: EvmDb, spent: SpentNonce): Promise<boolean> {
  const result = await db
    .updateTable('evm_nonce')
    .set({ next_nonce: spent.nonce })
    .where('identity', '=', spent.identity)
    .where('chain_id', '=', spent.chainId)
    .where('address', '=', spent.address)
    .where('next_nonce', '=', spent.nonce + 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The spent nonce named by an EVM request's recorded result, if it has one. */
export function spentNonceOf(identity: string, result: unknown): SpentNonce | null {
  if (typeof result !== 'object' || result === null) return null;
  const { nonce, chainId, from } = result as Record<string, unknown>;
  if (!Number.isSafeInteger(nonce) || !Number.isSafeInteger(chainId) || typeof from !== 'string') return null;
  return { identity, chainId: chainId as number, address: from.toLowerCase(), nonce: nonce as number };
}

/** The next nonce on record for an (identity, chain), if it belongs to `address`. */
export async function recordedNextNonce(
  db: EvmDb,
  identity: string,
  chainId: number,
  address: string,
): Promise<number | null> {
  const row = await db
    .selectFrom('evm_nonce')
    .selectAll()
    .where('identity', '=', identity)
    .where('chain_id', '=', chainId)
    .executeTakeFirst();
  return row && row.address === address ? row.next_nonce : null;
}
