/**
 * What the identity's coins and address book tell risk about a payment (risks.ts reads these
 * signals): whether it spends unconfirmed coins (a double spend of a parent undoes it), how deep
 * the shallowest coin it spends is (a reorg can undo it), how many of the wallet's coins are small
 * (worth less than spending them costs at a high fee rate: consolidate while fees are low), and
 * whether it pays an address Warden handed out before (address reuse links payments).
 */
import type { IntentSignals } from '../../../core/intent.ts';
import type { AccountName } from '../accounts.ts';
import { HIGH_FEE_MSAT_PER_VB } from '../fee-environment.ts';
import type { IssuedAddress } from './address-book.ts';
import type { CoinView, WalletCoin } from './coins.ts';
import { INPUT_WEIGHT } from './transaction.ts';

/** Below this a coin of `account` costs more to spend at the high-fee mark (100 sat/vB) than it brings. */
export function smallCoinBelow(account: AccountName): bigint {
  const vsize = BigInt(Math.ceil(INPUT_WEIGHT[account] / 4));
  return (vsize * HIGH_FEE_MSAT_PER_VB + 999n) / 1000n;
}

export function isSmallCoin(coin: WalletCoin): boolean {
  return coin.value < smallCoinBelow(coin.owner.account);
}

/** Whether a destination is an address Warden handed out to the identity (receive or change). */
export function paysOwnAddress(destinations: readonly string[], issued: readonly IssuedAddress[]): boolean {
  const own = new Set(issued.map((a) => a.address.toLowerCase()));
  return destinations.some((d) => own.has(d.toLowerCase()));
}

/** The signals of a send: the coins it spends, the wallet it spends from, the addresses it pays. */
export function sendSignals(
  view: CoinView,
  spent: readonly WalletCoin[],
  destinations: readonly string[],
): IntentSignals {
  const held = [...view.spendable, ...view.confirming, ...view.unconfirmed];
  return {
    spendsUnconfirmed: spent.some((c) => c.depth === 0),
    minCoinDepth: spent.reduce((least, c) => Math.min(least, c.depth), Number.MAX_SAFE_INTEGER),
    smallCoins: held.filter(isSmallCoin).length,
    paysOwnAddress: paysOwnAddress(destinations, view.issued),
  };
}
