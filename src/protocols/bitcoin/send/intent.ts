/**
 * What a send is judged on: the payments (each address checked for the identity's network), the
 * fee rate (the request's, or the node's estimate for 6 blocks: none, and the request is refused),
 * the fee of the coins Warden would pick now, and what the node and the wallet tell of the moment
 * (fee-environment.ts, wallet/signals.ts): the fee caps' reference and risk's signals. That fee is booked with the amount (fees are
 * money); the send picks its coins again when it runs, and never pays more fee than was judged.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { OutScript } from '@scure/btc-signer';
import { utf8 } from '../../../core/bytes.ts';
import { canonicalJson } from '../../../core/canonical.ts';
import { WardenError } from '../../../core/errors.ts';
import type { Intent } from '../../../core/intent.ts';
import type { IdentityView } from '../../../keys/view.ts';
import { accountsOf, type BitcoinAccounts, scriptOfKey } from '../accounts.ts';
import { addressOfScript, scriptOfAddress } from '../addresses.ts';
import type { BitcoinBackend } from '../backend.ts';
import { requireChain } from '../backend.ts';
import type { BitcoinChain, FeeEnvironment } from '../chain/chain.ts';
import { ESTIMATE_TARGET_BLOCKS, feeFacets, feeSignals } from '../fee-environment.ts';
import { DUST_THRESHOLDS } from '../outputs.ts';
import type { BitcoinDb } from '../tables.ts';
import { issuedAddresses, nextIndex } from '../wallet/address-book.ts';
import { lockedOutpoints } from '../wallet/coin-locks.ts';
import { type CoinView, coinView } from '../wallet/coins.ts';
import { sendSignals } from '../wallet/signals.ts';
import { type Payment, selectCoins } from '../wallet/transaction.ts';
import { drawJitteredAmount, jitterFacets, policyJitterCaps } from './amount-jitter.ts';
import type { SendRequest } from './request.ts';

export function sendDigest(p: SendRequest): string {
  return bytesToHex(
    sha256(
      utf8(
        canonicalJson({
          outputs: p.outputs.map((o) => ({ to: o.to, amountSat: o.amountSat.toString() })),
          feeRate: p.feeRateMsatPerVb === null ? null : p.feeRateMsatPerVb.toString(),
          // Only when asked: the digest of a send without jitter is the one earlier releases gave.
          ...(p.jitter
            ? { amountJitter: { min: p.jitter.minSat.toString(), max: p.jitter.maxSat.toString() } }
            : {}),
        }),
      ),
    ),
  );
}

/** The module's part of the intent (plain JSON, amounts as strings). */
export type SendDetail = {
  network: string;
  outputs: { address: string; script: string; amountSat: string }[];
  feeRateMsatPerVb: string;
  /** The most fee the send may pay: what was booked. */
  judgedFee: string;
  inputs: number;
  change: boolean;
  /** A jittered send (amount-jitter.ts): the amount asked, and the range the one paid was drawn from. */
  amountJitter?: { requestedSat: string; minSat: string; maxSat: string };
};

/**
 * The payments, each address valid on the identity's network and paying at least the dust
 * threshold (a jittered one at the least it may be drawn). `amounts`: those judged (a jittered
 * send's drawn amount), else the request's.
 */
export function paymentsOf(
  p: SendRequest,
  accounts: BitcoinAccounts,
  amounts?: readonly bigint[],
): Payment[] {
  return p.outputs.map((o, i) => {
    const field = p.outputs.length === 1 ? 'to' : `outputs[${i}].to`;
    const script = scriptOfAddress(o.to, accounts.network, field);
    const threshold = DUST_THRESHOLDS[OutScript.decode(script).type];
    const least = p.jitter && p.jitter.minSat < o.amountSat ? p.jitter.minSat : o.amountSat;
    if (threshold === undefined || least < threshold)
      throw new WardenError('DUST_OUTPUT', `${field}: ${least} sat is below the dust threshold`, {
        output: i,
        threshold: (threshold ?? 0n).toString(),
      });
    // The address as the script spells it: one spelling per payee (upper-case bech32 read as lower).
    const amount = amounts?.[i] ?? o.amountSat;
    return { address: addressOfScript(script, accounts.network) ?? o.to, script, amount };
  });
}

/** The payments as judged: the amounts the intent booked (a jittered send's draw), never re-drawn. */
export function judgedPayments(p: SendRequest, detail: SendDetail, accounts: BitcoinAccounts): Payment[] {
  const amounts = detail.outputs.map((o) => BigInt(o.amountSat));
  if (amounts.length !== p.outputs.length)
    throw new WardenError('INTERNAL', 'the judged send has another number of outputs than its request');
  return paymentsOf(p, accounts, amounts);
}

/** The identity's coins now (spendable ones not locked by a send in flight). */
export async function walletView(
  chain: BitcoinChain,
  tables: BitcoinDb,
  identity: string,
  minConfirmations: number,
): Promise<CoinView> {
  return coinView(
    chain,
    await issuedAddresses(tables, identity),
    await lockedOutpoints(tables, identity),
    minConfirmations,
  );
}

export async function changeTarget(tables: BitcoinDb, identity: string, accounts: BitcoinAccounts) {
  const index = await nextIndex(tables, identity, 'bip84', 1);
  return { index, script: scriptOfKey(accounts, { account: 'bip84', chain: 1, index }) };
}

/** The request's fee rate, or the node's estimate for ESTIMATE_TARGET_BLOCKS. */
export function feeRateOf(p: SendRequest, environment: FeeEnvironment): bigint {
  if (p.feeRateMsatPerVb !== null) return p.feeRateMsatPerVb;
  const estimate = environment.estimate;
  if (estimate === null || estimate <= 0n)
    throw new WardenError('FEE_ESTIMATE_UNAVAILABLE', 'the node has no fee estimate: give feerate (sat/vB)', {
      target: ESTIMATE_TARGET_BLOCKS,
    });
  return estimate;
}

export async function sendIntent(
  identity: string,
  p: SendRequest,
  ctx: {
    publicKeys: IdentityView;
    backend: BitcoinBackend | null;
    tables?: BitcoinDb;
    policyCap?: (name: string) => bigint | null;
  },
): Promise<Intent> {
  const accounts = accountsOf(ctx.publicKeys);
  // Drawn first (no backend asked yet): the caps refuse before anything else is looked up.
  const jittered = p.jitter
    ? drawJitteredAmount(p.outputs[0]!.amountSat, p.jitter, policyJitterCaps(ctx.policyCap))
    : null;
  const payments = paymentsOf(p, accounts, jittered ? [jittered.amountSat] : undefined);
  const chain = requireChain(ctx.backend, accounts.network, identity);
  // The one fee-environment read: the default rate, the caps' reference and risk's signals.
  const environment = await chain.feeEnvironment(ESTIMATE_TARGET_BLOCKS);
  const rate = feeRateOf(p, environment);
  if (!ctx.tables) throw new WardenError('INTERNAL', 'a send is judged with the store open');
  const view = await walletView(chain, ctx.tables, identity, ctx.backend!.minConfirmations);
  const change = await changeTarget(ctx.tables, identity, accounts);
  const selection = selectCoins(view.spendable, payments, change.script, rate);
  const amount = payments.reduce((s, x) => s + x.amount, 0n);
  const destinations = [...new Set(payments.map((x) => x.address))];
  const detail: SendDetail = {
    network: accounts.network,
    outputs: payments.map((x) => ({
      address: x.address,
      script: bytesToHex(x.script),
      amountSat: x.amount.toString(),
    })),
    feeRateMsatPerVb: rate.toString(),
    judgedFee: selection.fee.toString(),
    inputs: selection.coins.length,
    change: selection.change !== null,
    ...(jittered
      ? {
          amountJitter: {
            requestedSat: jittered.requestedSat.toString(),
            minSat: jittered.range.minSat.toString(),
            maxSat: jittered.range.maxSat.toString(),
          },
        }
      : {}),
  };
  return {
    protocol: 'bitcoin',
    action: 'send',
    identity,
    asset: 'btc',
    amount,
    destinations,
    maxFee: selection.fee,
    feeAsset: 'btc',
    payloadDigest: sendDigest(p),
    idempotencyKey: p.idempotencyKey,
    facets: {
      network: accounts.network,
      sighash: 'all',
      amount_proof: 'full',
      wallet: 'single_key',
      // Of the fee the coins chosen pay (dust change goes to it): the real rate, not the one asked.
      ...feeFacets(selection.fee, selection.vsize, environment),
      ...jitterFacets(jittered),
    },
    detail,
    signals: {
      ...feeSignals(environment),
      ...sendSignals(view, selection.coins, destinations),
    },
  };
}
