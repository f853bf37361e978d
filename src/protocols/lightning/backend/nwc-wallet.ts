/**
 * An upstream NWC wallet (NIP-47) as Warden's Lightning backend: Warden is the wallet's client,
 * over one relay socket per call chain from net/ (nwc-request.ts). The connection's secret stays
 * in keys/ (keys/nwc-client-key.ts): this file gets a client that signs and encrypts, never a key.
 *
 * What NIP-47 cannot say, and what Warden does about it:
 * - no fee limit: a payment whose fee is above Warden's limit has still been paid; it is reported
 *   `succeeded` with the fee the wallet names (the ledger commits what was paid), and a fee not
 *   named, in the payment's answer or in lookup_invoice's when it is tracked, is taken to be the
 *   whole limit (budgets count at least what may have been spent);
 * - no channels: `channels` is LIGHTNING_NOT_SUPPORTED, and the balance is the wallet's spendable one;
 * - no proof but the preimage: a payment is `succeeded` only with a preimage that opens the hash;
 *   any other answer after the request was published is OUTCOME_UNKNOWN (reconcile `track`s it).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { WardenError } from '../../../core/errors.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import { type Bolt11Invoice, decodeBolt11 } from '../bolt11.ts';
import { isHash, isNodeId, opens } from './answers.ts';
import type { InvoiceState, LightningBackend, PaymentState } from './backend.ts';
import { malformed, type NwcChannel, type NwcReply, rejected } from './nwc-request.ts';
import {
  afterSending,
  checkNewInvoice,
  checkPayment,
  FOLLOW_GRACE_MS,
  invalid,
  madeAsAsked,
  outcomeUnknown,
} from './pay-checks.ts';

export interface NwcWalletOptions {
  channel: NwcChannel;
  /** The network the identity pays on: invoices of another are refused. */
  network: BitcoinNetwork;
  /** How long a read waits for the wallet's answer. */
  readWaitMs?: number;
}

const READ_WAIT_MS = 30_000;
const POLL_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A NIP-47 amount: msat as a JSON number, believed only as a safe non-negative integer. */
function msatOf(value: unknown, what: string, field: string): bigint {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw malformed(what, `${field} is not msat`);
  return BigInt(value as number);
}

/**
 * The fee of a success: the one the wallet names, else the whole limit (NIP-47 makes `fees_paid`
 * optional in both the payment's answer and lookup_invoice's, and a budget counts at least what
 * may have been spent).
 */
function feeOf(value: unknown, feeLimitMsat: bigint, what: string): bigint {
  return value === undefined || value === null ? feeLimitMsat : msatOf(value, what, 'fees_paid');
}

/** NIP-47 errors that refuse a call before it does anything (for a payment: nothing was paid). */
function refusal(error: { code: string; message: string }, what: string): WardenError {
  switch (error.code) {
    case 'UNAUTHORIZED':
    case 'RESTRICTED':
      return new WardenError('LIGHTNING_BACKEND_AUTH', `the NWC wallet refused the connection for ${what}`, {
        protocol: 'lightning',
        backend: 'nwc',
        nip47Code: error.code,
      });
    case 'NOT_IMPLEMENTED':
      return new WardenError('LIGHTNING_NOT_SUPPORTED', `the NWC wallet does not offer ${what}`, {
        protocol: 'lightning',
        backend: 'nwc',
        feature: what,
      });
    case 'RATE_LIMITED':
      return rejected(what, { reason: 'rate_limited', nip47Code: error.code, message: error.message });
    case 'QUOTA_EXCEEDED':
      return rejected(what, { reason: 'quota_exceeded', nip47Code: error.code, message: error.message });
    default:
      return rejected(what, { reason: 'wallet_error', nip47Code: error.code, message: error.message });
  }
}
const REFUSING = new Set(['UNAUTHORIZED', 'RESTRICTED', 'NOT_IMPLEMENTED', 'RATE_LIMITED', 'QUOTA_EXCEEDED']);

/** A lookup_invoice transaction of `paymentHash`, checked to be that one. */
function transactionOf(result: Record<string, unknown>, paymentHash: string, what: string) {
  if (result.payment_hash !== paymentHash) throw malformed(what, 'a transaction of another payment hash');
  if (result.type !== 'incoming' && result.type !== 'outgoing') throw malformed(what, 'type');
  return result;
}

export function createNwcWalletBackend(options: NwcWalletOptions): LightningBackend {
  const { channel, network } = options;
  const readWaitMs = options.readWaitMs ?? READ_WAIT_MS;

  async function read(method: string, params: Record<string, unknown>, what: string) {
    const reply = await channel.call(method, params, what, readWaitMs);
    if (!reply.ok) throw refusal(reply.error, what);
    return reply.result;
  }

  /** lookup_invoice, NOT_FOUND as null. */
  async function lookup(paymentHash: string, what: string): Promise<Record<string, unknown> | null> {
    const reply = await channel.call('lookup_invoice', { payment_hash: paymentHash }, what, readWaitMs);
    if (!reply.ok) {
      if (reply.error.code === 'NOT_FOUND') return null;
      throw refusal(reply.error, what);
    }
    return transactionOf(reply.result, paymentHash, what);
  }

  /** A pay_invoice / pay_keysend answer as a payment state; a doubtful one is OUTCOME_UNKNOWN. */
  function paidOf(
    reply: NwcReply,
    expected: { paymentHash: string; amountMsat: bigint; feeLimitMsat: bigint },
    what: string,
  ): PaymentState {
    if (!reply.ok) {
      const { code } = reply.error;
      if (code === 'PAYMENT_FAILED')
        return { status: 'failed', paymentHash: expected.paymentHash, reason: 'error' };
      if (code === 'INSUFFICIENT_BALANCE')
        return { status: 'failed', paymentHash: expected.paymentHash, reason: 'insufficient_balance' };
      if (REFUSING.has(code)) throw refusal(reply.error, what);
      // OTHER, INTERNAL or a code NIP-47 does not name: the wallet may have paid.
      throw outcomeUnknown(refusal(reply.error, what));
    }
    const { preimage } = reply.result;
    if (!isHash(preimage) || !opens(preimage, expected.paymentHash))
      throw outcomeUnknown(malformed(what, 'a preimage that does not open the payment hash'));
    return {
      status: 'succeeded',
      paymentHash: expected.paymentHash,
      preimage,
      amountMsat: expected.amountMsat,
      feeMsat: feeOf(reply.result.fees_paid, expected.feeLimitMsat, what),
    };
  }

  /** A payment request published: its answer, or OUTCOME_UNKNOWN when it is doubtful or missing. */
  async function payWith(
    method: 'pay_invoice' | 'pay_keysend',
    params: Record<string, unknown>,
    expected: { paymentHash: string; amountMsat: bigint; feeLimitMsat: bigint },
    waitMs: number,
  ): Promise<PaymentState> {
    const what = 'the payment';
    let reply: NwcReply;
    try {
      reply = await channel.call(method, params, what, waitMs);
    } catch (err) {
      if (afterSending(err) === 'refused') throw err;
      throw err instanceof WardenError ? outcomeUnknown(err) : err;
    }
    return paidOf(reply, expected, what);
  }

  /** An outgoing transaction as a payment state (null: the wallet has none of this hash). */
  async function tracked(paymentHash: string, feeLimitMsat: bigint): Promise<PaymentState | null> {
    const what = 'lookup_invoice';
    const tx = await lookup(paymentHash, what);
    if (!tx) return null;
    if (tx.type !== 'outgoing') throw malformed(what, 'the payment is not an outgoing one');
    const state = tx.state ?? (tx.settled_at ? 'settled' : 'pending');
    if (state === 'failed' || state === 'expired') return { status: 'failed', paymentHash, reason: 'error' };
    if (state === 'pending') return { status: 'in_flight', paymentHash };
    if (state !== 'settled') throw malformed(what, 'an unknown state');
    const { preimage } = tx;
    if (!isHash(preimage) || !opens(preimage, paymentHash))
      throw malformed(what, 'a preimage that does not open the payment hash');
    const amountMsat = msatOf(tx.amount, what, 'amount');
    return {
      status: 'succeeded',
      paymentHash,
      preimage,
      amountMsat,
      feeMsat: feeOf(tx.fees_paid, feeLimitMsat, what),
    };
  }

  const backend: LightningBackend = {
    kind: 'nwc',

    async info() {
      const what = 'get_info';
      const info = await read('get_info', {}, what);
      if (!isNodeId(info.pubkey)) throw malformed(what, 'pubkey');
      const height = info.block_height ?? 0;
      if (!Number.isSafeInteger(height) || (height as number) < 0) throw malformed(what, 'block_height');
      if (typeof info.network !== 'string') throw malformed(what, 'network');
      // NIP-47 does not say whether the wallet is synced: a wallet that answers is taken to be.
      return {
        nodeId: info.pubkey,
        blockHeight: height as number,
        syncedToChain: true,
        network: info.network.slice(0, 20),
      };
    },

    async balance() {
      const b = await read('get_balance', {}, 'get_balance');
      return {
        localMsat: msatOf(b.balance, 'get_balance', 'balance'),
        remoteMsat: 0n,
        unsettledLocalMsat: 0n,
        pendingOpenLocalMsat: 0n,
      };
    },

    async channels() {
      throw new WardenError(
        'LIGHTNING_NOT_SUPPORTED',
        'an NWC wallet does not show its channels (NIP-47 has no such method)',
        {
          protocol: 'lightning',
          backend: 'nwc',
          feature: 'channels',
        },
      );
    },

    // Warden's own decoding only: NIP-47 has no decode, and the wallet is not asked.
    async decode(bolt11) {
      return decodeBolt11(bolt11);
    },

    async pay(bolt11, o) {
      const { invoice, expected, deadline } = checkPayment(bolt11, o, network);
      const params = {
        invoice: bolt11,
        ...(invoice.amountMsat === null ? { amount: Number(expected.amountMsat) } : {}),
      };
      if (invoice.amountMsat === null && !Number.isSafeInteger(params.amount))
        throw invalid('the amount is more msat than NIP-47 carries (2^53)');
      return payWith('pay_invoice', params, expected, Math.max(1, deadline - performance.now()));
    },

    async track(paymentHash, waitMs, feeLimitMsat) {
      if (!isHash(paymentHash)) throw invalid('a payment hash is 64 lower-case hex digits');
      if (typeof feeLimitMsat !== 'bigint' || feeLimitMsat < 0n)
        throw invalid('the fee limit is not an amount of msat');
      const deadline = performance.now() + waitMs;
      for (;;) {
        const state = await tracked(paymentHash, feeLimitMsat);
        if (state === null || state.status !== 'in_flight') return state;
        const left = deadline - performance.now();
        if (left <= 0) return state;
        await sleep(Math.min(POLL_MS, left));
      }
    },

    async createInvoice(request) {
      const what = 'make_invoice';
      checkNewInvoice(request);
      if (request.amountMsat > BigInt(Number.MAX_SAFE_INTEGER))
        throw invalid('the amount is more msat than NIP-47 carries (2^53)');
      const made = await read(
        'make_invoice',
        {
          amount: Number(request.amountMsat),
          description: request.description,
          expiry: request.expirySeconds,
        },
        what,
      );
      const { invoice: bolt11, payment_hash: paymentHash } = made;
      if (typeof bolt11 !== 'string') throw malformed(what, 'invoice');
      if (!isHash(paymentHash)) throw malformed(what, 'payment_hash');
      let invoice: Bolt11Invoice;
      try {
        invoice = decodeBolt11(bolt11);
      } catch {
        throw malformed(what, 'invoice is not a valid invoice');
      }
      // Payable to the wallet's node, when get_info names it (NIP-47 makes the pubkey optional).
      const info = await read('get_info', {}, 'get_info');
      const payeeOk = info.pubkey === undefined || invoice.payee === info.pubkey;
      if (!madeAsAsked(invoice, paymentHash, request, network) || !payeeOk)
        throw rejected(what, {
          reason: 'mismatch',
          message: 'the invoice the NWC wallet made is not the one asked for',
        });
      return { bolt11, paymentHash, invoice };
    },

    async lookupInvoice(paymentHash): Promise<InvoiceState | null> {
      const what = 'lookup_invoice';
      if (!isHash(paymentHash)) throw invalid('a payment hash is 64 lower-case hex digits');
      const tx = await lookup(paymentHash, what);
      if (!tx) return null;
      if (tx.type !== 'incoming') throw malformed(what, 'the invoice is not an incoming one');
      const amountMsat = msatOf(tx.amount, what, 'amount');
      const state = tx.state ?? (tx.settled_at ? 'settled' : 'pending');
      if (state === 'pending') return { state: 'open', paymentHash, amountMsat };
      if (state === 'failed' || state === 'expired') return { state: 'canceled', paymentHash, amountMsat };
      if (state !== 'settled') throw malformed(what, 'an unknown state');
      const { preimage } = tx;
      if (!isHash(preimage) || !opens(preimage, paymentHash))
        throw malformed(what, 'a preimage that does not open the payment hash');
      // NIP-47 names one amount: what the invoice asked, and was paid.
      return { state: 'settled', paymentHash, amountMsat, paidMsat: amountMsat, preimage };
    },

    async keysend(o) {
      if (!isNodeId(o.destination)) throw invalid('a keysend destination is a node id (66 hex digits)');
      if (!(o.preimage instanceof Uint8Array) || o.preimage.length !== 32)
        throw invalid('a keysend preimage is 32 bytes');
      if (
        typeof o.amountMsat !== 'bigint' ||
        o.amountMsat <= 0n ||
        o.amountMsat > BigInt(Number.MAX_SAFE_INTEGER)
      )
        throw new WardenError('INVALID_AMOUNT', 'a keysend pays a positive amount of msat', {
          protocol: 'lightning',
        });
      if (typeof o.feeLimitSat !== 'bigint' || o.feeLimitSat < 0n)
        throw invalid('the fee limit is not an amount of sat');
      const preimage = bytesToHex(o.preimage);
      const paymentHash = bytesToHex(sha256(o.preimage));
      const state = await payWith(
        'pay_keysend',
        { amount: Number(o.amountMsat), pubkey: o.destination, preimage },
        { paymentHash, amountMsat: o.amountMsat, feeLimitMsat: o.feeLimitSat * 1000n },
        o.waitMs ?? o.timeoutSeconds * 1000 + FOLLOW_GRACE_MS,
      );
      return state;
    },
  };
  return backend;
}
