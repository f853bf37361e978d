/**
 * Building a send: coins chosen largest first until they pay the outputs and the fee at the judged
 * rate, change to a fresh internal address unless it would be dust (then it goes to the fee), RBF
 * signalled on every input (nSequence 0xfffffffd, BIP-125), and an anti-fee-sniping locktime (the
 * tip, sometimes up to 100 blocks earlier, as Bitcoin Core does, so that it does not single Warden
 * out). The transaction carries what the PSBT analysis needs to judge it like any other: each
 * input's full previous transaction and our BIP-32 claims, so Warden's own construction is
 * checked by the same code that checks a stranger's PSBT.
 */
import { randomInt } from 'node:crypto';
import { hex } from '@scure/base';
import { RawTx, Transaction } from '@scure/btc-signer';
import { WardenError } from '../../../core/errors.ts';
import { type AccountName, type BitcoinAccounts, fullPath, scriptOfKey } from '../accounts.ts';
import { DUST_THRESHOLDS } from '../outputs.ts';
import type { WalletCoin } from './coins.ts';

/** BIP-125: replaceable, and nLockTime enforced. */
export const RBF_SEQUENCE = 0xfffffffd;
/** Most inputs one send spends (the transaction stays far below the standard size). */
export const MAX_INPUTS = 200;

export interface Payment {
  address: string;
  script: Uint8Array;
  amount: bigint;
}

/** Witness weight of spending a coin of each account (a 72-byte signature at worst, weight.ts). */
export const INPUT_WEIGHT: Record<AccountName, number> = {
  bip84: 41 * 4 + (1 + 1 + 72 + 1 + 33),
  bip86: 41 * 4 + (1 + 1 + 64),
};
/** Version, locktime, one-byte counts, and the segwit marker and flag. */
const OVERHEAD_WEIGHT = 10 * 4 + 2;

const outputWeight = (script: Uint8Array) => (8 + 1 + script.length) * 4;

function feeFor(weight: number, rateMsatPerVb: bigint): bigint {
  const vsize = BigInt(Math.ceil(weight / 4));
  return (vsize * rateMsatPerVb + 999n) / 1000n;
}

export interface Selection {
  coins: WalletCoin[];
  fee: bigint;
  /** The signed transaction's size as estimated (with the change output when there is one). */
  vsize: number;
  /** null: no change output (what was left was dust and went to the fee). */
  change: bigint | null;
}

/** Largest coins first; INSUFFICIENT_FUNDS when all of them do not pay the outputs and the fee. */
export function selectCoins(
  available: readonly WalletCoin[],
  payments: readonly Payment[],
  changeScript: Uint8Array,
  rateMsatPerVb: bigint,
): Selection {
  const amount = payments.reduce((s, p) => s + p.amount, 0n);
  const paid = payments.reduce((w, p) => w + outputWeight(p.script), OVERHEAD_WEIGHT);
  const dust = DUST_THRESHOLDS.wpkh ?? 294n;
  const sorted = [...available].sort((a, b) =>
    a.value === b.value ? (a.txid + a.vout < b.txid + b.vout ? -1 : 1) : a.value > b.value ? -1 : 1,
  );
  const chosen: WalletCoin[] = [];
  let inputs = 0n;
  let weight = paid;
  for (const coin of sorted.slice(0, MAX_INPUTS)) {
    chosen.push(coin);
    inputs += coin.value;
    weight += INPUT_WEIGHT[coin.owner.account];
    const changed = weight + outputWeight(changeScript);
    const withChange = feeFor(changed, rateMsatPerVb);
    if (inputs >= amount + withChange + dust)
      return {
        coins: chosen,
        fee: withChange,
        vsize: Math.ceil(changed / 4),
        change: inputs - amount - withChange,
      };
    const without = feeFor(weight, rateMsatPerVb);
    if (inputs >= amount + without)
      return { coins: chosen, fee: inputs - amount, vsize: Math.ceil(weight / 4), change: null };
  }
  const needed = amount + feeFor(paid + INPUT_WEIGHT.bip84, rateMsatPerVb);
  throw new WardenError('INSUFFICIENT_FUNDS', 'the spendable coins do not cover the amount and the fee', {
    available: sorted.reduce((s, c) => s + c.value, 0n).toString(),
    needed: needed.toString(),
    coins: sorted.length,
  });
}

/** Anti-fee-sniping (Bitcoin Core's DiscourageFeeSniping): the tip, one time in ten up to 100 earlier. */
export function antiFeeSnipingLocktime(tip: number): number {
  return randomInt(10) === 0 ? Math.max(0, tip - randomInt(100)) : tip;
}

/** The previous transaction of `coin`, checked: its txid, and the output paying our script that amount. */
export function provenPrevious(coin: WalletCoin, raw: Uint8Array | null, script: Uint8Array): Uint8Array {
  const lie = (why: string) =>
    new WardenError('BACKEND_REJECTED', `the Bitcoin backend's coin ${coin.txid}:${coin.vout} ${why}`, {
      protocol: 'bitcoin',
      reason: 'coin_unproven',
    });
  if (raw === null) throw lie('has no previous transaction there');
  let tx: Transaction;
  try {
    tx = Transaction.fromRaw(raw, { allowUnknownOutputs: true, disableScriptCheck: true });
  } catch {
    throw lie('has an unreadable previous transaction');
  }
  if (tx.id !== coin.txid) throw lie('comes with another transaction');
  const out = coin.vout < tx.outputsLength ? tx.getOutput(coin.vout) : undefined;
  if (!out?.script || hex.encode(out.script) !== hex.encode(script) || out.amount !== coin.value)
    throw lie('is not what its transaction pays');
  // Only the bytes are kept (RawTx re-encodes what was read, so nothing of the reply is carried).
  return RawTx.encode(RawTx.decode(raw));
}

/** The unsigned transaction, with previous transactions and our BIP-32 claims on inputs and change. */
export function buildSendTransaction(input: {
  accounts: BitcoinAccounts;
  selection: Selection;
  previous: readonly Uint8Array[];
  payments: readonly Payment[];
  change: { index: number; address: string; script: Uint8Array } | null;
  lockTime: number;
}): Transaction {
  const { accounts, selection } = input;
  const tx = new Transaction({ version: 2, lockTime: input.lockTime });
  const claim = (account: AccountName, chain: 0 | 1, index: number) => {
    const pub = accounts[account][chain].deriveChild(index).publicKey!;
    const der = { fingerprint: accounts.fingerprint, path: fullPath(accounts, { account, chain, index }) };
    return account === 'bip84'
      ? { bip32Derivation: [[pub, der]] as [Uint8Array, typeof der][] }
      : {
          tapInternalKey: pub.subarray(1),
          tapBip32Derivation: [[pub.subarray(1), { hashes: [], der }]] as [
            Uint8Array,
            { hashes: Uint8Array[]; der: typeof der },
          ][],
        };
  };
  for (const [i, coin] of selection.coins.entries()) {
    const { account, chain, index } = coin.owner;
    tx.addInput({
      txid: coin.txid,
      index: coin.vout,
      sequence: RBF_SEQUENCE,
      witnessUtxo: { script: scriptOfKey(accounts, { account, chain, index }), amount: coin.value },
      nonWitnessUtxo: input.previous[i]!,
      ...claim(account, chain, index),
    });
  }
  for (const p of input.payments) tx.addOutput({ script: p.script, amount: p.amount });
  if (input.change && selection.change !== null)
    tx.addOutput({
      script: input.change.script,
      amount: selection.change,
      ...claim('bip84', 1, input.change.index),
    });
  return tx;
}
