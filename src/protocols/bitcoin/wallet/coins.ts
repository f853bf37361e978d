/**
 * The identity's coins, as the backend lists them for the addresses Warden handed out, sorted by
 * what they may be used for: spendable (confirmed to the configured depth and not locked by a
 * send in flight), confirming (in a block, not yet deep enough: a reorg can undo it), unconfirmed
 * (in the mempool: a double spend can undo it) and locked.
 */
import type { BitcoinChain } from '../chain/chain.ts';
import type { IssuedAddress } from './address-book.ts';
import { outpointKey } from './coin-locks.ts';

export interface WalletCoin {
  txid: string;
  vout: number;
  value: bigint;
  /** Confirmations: 0 in the mempool. */
  depth: number;
  owner: IssuedAddress;
}

export interface CoinView {
  tip: number;
  /** The addresses read (every address Warden handed out to the identity). */
  issued: readonly IssuedAddress[];
  spendable: WalletCoin[];
  confirming: WalletCoin[];
  unconfirmed: WalletCoin[];
  locked: WalletCoin[];
  /** Addresses a coin was seen paying (for the gap limit). */
  used: string[];
}

/** Reads the coins of `issued` addresses from the chain; one request per address. */
export async function coinView(
  chain: BitcoinChain,
  issued: readonly IssuedAddress[],
  locked: ReadonlySet<string>,
  minConfirmations: number,
): Promise<CoinView> {
  const tip = await chain.tipHeight();
  const view: CoinView = {
    tip,
    issued,
    spendable: [],
    confirming: [],
    unconfirmed: [],
    locked: [],
    used: [],
  };
  const seen = new Set<string>();
  for (const owner of issued) {
    const utxos = await chain.utxos(owner.address);
    if (utxos.length > 0) view.used.push(owner.address);
    for (const u of utxos) {
      const key = outpointKey(u);
      // A backend listing the same coin twice must not make it count twice.
      if (seen.has(key)) continue;
      seen.add(key);
      const depth = u.height === null ? 0 : Math.max(0, tip - u.height + 1);
      const coin: WalletCoin = { txid: u.txid, vout: u.vout, value: u.value, depth, owner };
      if (locked.has(key)) view.locked.push(coin);
      else if (depth >= minConfirmations) view.spendable.push(coin);
      else if (depth > 0) view.confirming.push(coin);
      else view.unconfirmed.push(coin);
    }
  }
  return view;
}

export const total = (coins: readonly WalletCoin[]) => coins.reduce((sum, c) => sum + c.value, 0n);
