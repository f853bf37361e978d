/**
 * Running a judged send: under the identity's lock, the coins are picked again (none a send in
 * flight holds), each proven by its previous transaction, the transaction built and judged by the
 * PSBT analysis like a stranger's PSBT, signed, its signatures verified, and recorded with its
 * coins locked before it leaves. The broadcast is believed only once the transaction is found on
 * the backend afterwards.
 */
import { hex } from '@scure/base';
import { type ErrorCode, isWardenError } from '../../../core/errors.ts';
import type { Intent } from '../../../core/intent.ts';
import { KeyedMutex } from '../../../core/mutex.ts';
import type { BitcoinPsbtSigner } from '../../../keys/capabilities.ts';
import type { ExecutionContext, ExecutionOutcome } from '../../operation.ts';
import { accountsOf, scriptOfKey } from '../accounts.ts';
import { addressOfScript } from '../addresses.ts';
import { analyzePsbt } from '../analyze-psbt.ts';
import { type BitcoinBackend, requireChain } from '../backend.ts';
import type { BitcoinChain } from '../chain/chain.ts';
import { failedWith } from '../outcome.ts';
import { decodePsbtBytes } from '../psbt-decode.ts';
import { verifySignedInputs } from '../sign-psbt/verify.ts';
import type { BitcoinDb } from '../tables.ts';
import { recordAddress } from '../wallet/address-book.ts';
import { lockCoins, releaseLocks } from '../wallet/coin-locks.ts';
import {
  antiFeeSnipingLocktime,
  buildSendTransaction,
  provenPrevious,
  selectCoins,
} from '../wallet/transaction.ts';
import { changeTarget, judgedPayments, type SendDetail, walletView } from './intent.ts';
import type { SendRequest } from './request.ts';

const sends = new KeyedMutex();
/** How long a broadcast may take to show on the backend (bcoin judges after it answered). */
const LOOKUP_MS = 5_000;

const failed = (code: ErrorCode, message: string): ExecutionOutcome => ({ status: 'failed', code, message });
const failure = (err: unknown, message: string) => failedWith(err, message, 'SIGNING_FAILED');

/** The recorded result of a send: what reconcile needs to find it, or to hand it out again. */
export interface SendResult extends Record<string, unknown> {
  txid: string;
  network: string;
  fee: string;
  feeRateMsatPerVb: string;
  inputs: string[];
  change: { address: string; index: number } | null;
  /** The signed transaction (public once it is broadcast): reconcile re-broadcasts the same bytes. */
  raw: string;
  /** What the payments add up to (sat), as booked; for a jittered send, also the amount asked. */
  amountSat: string;
  requestedAmountSat: string;
}

/** Found on the backend within LOOKUP_MS: in the mempool or a block. */
export async function seenOnChain(chain: BitcoinChain, txid: string, waitMs = LOOKUP_MS): Promise<boolean> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const status = await chain.status(txid);
    if (status.state !== 'unknown') return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function executeSend(
  p: SendRequest,
  intent: Intent,
  ctx: ExecutionContext<BitcoinBackend, BitcoinPsbtSigner, BitcoinDb>,
): Promise<ExecutionOutcome> {
  const detail = intent.detail as SendDetail;
  const { identity, tables } = ctx;
  return sends.run(identity, async () => {
    let chain: BitcoinChain;
    let result: SendResult;
    let coins: { txid: string; vout: number }[];
    let change: { index: number; address: string } | null;
    let raw: Uint8Array;
    try {
      if (!(await ctx.stillExecuting())) return failed('REQUEST_NOT_PENDING', 'no longer executing');
      const accounts = accountsOf(ctx.publicKeys);
      if (accounts.network !== detail.network)
        return failed('KEY_NOT_ACTIVE', 'the identity’s network changed since the send was judged');
      chain = requireChain(ctx.backend, accounts.network, identity);
      // The amounts judged and booked (a jittered send's draw), not drawn again.
      const payments = judgedPayments(p, detail, accounts);
      const rate = BigInt(detail.feeRateMsatPerVb);
      const view = await walletView(chain, tables, identity, ctx.backend!.minConfirmations);
      const target = await changeTarget(tables, identity, accounts);
      const selection = selectCoins(view.spendable, payments, target.script, rate);
      if (selection.fee > BigInt(detail.judgedFee))
        return failed(
          'COINS_CHANGED',
          `the coins left would pay ${selection.fee} sat of fee, above the ${detail.judgedFee} judged; nothing was signed`,
        );
      const previous: Uint8Array[] = [];
      for (const coin of selection.coins) {
        const script = scriptOfKey(accounts, coin.owner);
        previous.push(provenPrevious(coin, await chain.rawTransaction(coin.txid), script));
      }
      change =
        selection.change === null
          ? null
          : { index: target.index, address: addressOfScript(target.script, accounts.network)! };
      const built = buildSendTransaction({
        accounts,
        selection,
        previous,
        payments,
        change: change && { ...change, script: target.script },
        lockTime: antiFeeSnipingLocktime(view.tip),
      });
      // Read back as any PSBT is, and judged by the same analysis: our own construction included.
      const { tx } = decodePsbtBytes(built.toPSBT(0));
      const analysis = analyzePsbt(tx, 0, accounts);
      const amount = payments.reduce((s, x) => s + x.amount, 0n);
      if (analysis.externalTotal !== amount || analysis.fee !== selection.fee)
        return failed('INTERNAL', 'the built transaction is not the judged send; nothing was signed');
      const keys = analysis.toSign.map(({ input, key }) => ({
        input,
        purpose: key.account === 'bip84' ? (84 as const) : (86 as const),
        chain: key.chain,
        index: key.index,
        sighash: analysis.inputs.find((i) => i.index === input)!.sighash,
      }));
      ctx.signer.signInputs(tx, keys, [...new Set(keys.map((k) => k.sighash))]);
      const sighashOf = (input: number) => keys.find((k) => k.input === input)?.sighash;
      if (
        !verifySignedInputs(
          tx,
          keys.map((k) => k.input),
          analysis.txid,
          sighashOf,
        )
      )
        return failed('SIGNING_FAILED', 'a signature does not verify; nothing was broadcast');
      tx.finalize();
      raw = tx.extract();
      coins = selection.coins.map((c) => ({ txid: c.txid, vout: c.vout }));
      result = {
        txid: tx.id,
        network: accounts.network,
        fee: selection.fee.toString(),
        feeRateMsatPerVb: detail.feeRateMsatPerVb,
        inputs: coins.map((c) => `${c.txid}:${c.vout}`),
        change,
        raw: hex.encode(raw),
        amountSat: amount.toString(),
        requestedAmountSat: detail.amountJitter?.requestedSat ?? amount.toString(),
      };
    } catch (err) {
      return failure(err, 'nothing was signed');
    }
    const at = new Date().toISOString();
    try {
      // The coins locked and the change address taken in the transaction that records the txid.
      await ctx.recordBeforeSend(result, async (t) => {
        await lockCoins(t, identity, ctx.requestId, coins, at);
        if (change)
          await recordAddress(
            t,
            identity,
            { account: 'bip84', chain: 1, ...change },
            { requestId: ctx.requestId, at },
          );
      });
    } catch (err) {
      // Another process locked a coin first: nothing left Warden.
      return failure(err, 'the coins could not be locked; nothing was broadcast');
    }
    const spent = { fee: BigInt(result.fee), valueMoved: true };
    try {
      await chain.broadcast(raw);
    } catch (err) {
      const refused = isWardenError(err, 'BACKEND_REJECTED') && err.details.sent === true;
      const neverLeft = isWardenError(err, 'BACKEND_UNREACHABLE') && err.details.sent === false;
      if (refused || neverLeft) {
        await releaseLocks(tables, ctx.requestId);
        return failed(
          'BROADCAST_FAILED',
          refused ? 'the node refused the transaction' : 'the node was not reached',
        );
      }
      if (await seenOnChain(chain, result.txid, 0).catch(() => false))
        return { status: 'done', result, spent };
      return {
        status: 'unknown',
        code: isWardenError(err) ? err.code : 'BROADCAST_FAILED',
        message: 'the broadcast outcome is unknown; reconcile by its txid',
        result,
      };
    }
    if (await seenOnChain(chain, result.txid).catch(() => false)) return { status: 'done', result, spent };
    return {
      status: 'unknown',
      code: 'OUTCOME_UNKNOWN',
      message: 'the node took the transaction but does not show it; reconcile by its txid',
      result,
    };
  });
}
