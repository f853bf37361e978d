/**
 * Core Lightning's REST API (the clnrest plugin) as Warden's Lightning backend: getinfo,
 * listpeerchannels (balance and channels), decode, pay (with `maxfee` and `retry_for`) followed by
 * listpays, invoice and listinvoices. Everything goes through net/; the rune is handed in as bytes
 * and only ever written into the `Rune` header (cln-request.ts), never into an error or a log.
 *
 * Every answer is hostile until checked (cln-payment.ts, and here): Warden decodes the invoice
 * itself (bolt11.ts) and CLN's decoding, the invoices it makes and the payments it reports must
 * agree with it. A payment once sent is never reported failed or succeeded on a doubtful answer:
 * a malformed one is OUTCOME_UNKNOWN, a lost one is followed by its hash (listpays) until the
 * caller's wait is over, then `in_flight`; a failure is believed only when listpays agrees.
 *
 * Keysend is not offered: CLN's `keysend` picks its own preimage, and Warden claims the payment
 * hash of a preimage it chose before anything is sent (backend.ts KeysendOptions).
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { hex } from '@scure/base';
import { WardenError } from '../../../core/errors.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import type { Net } from '../../../net/http.ts';
import { type Bolt11Invoice, decodeBolt11 } from '../bolt11.ts';
import { isHash, isNodeId, isRecord, opens } from './answers.ts';
import type {
  ChannelBalance,
  ChannelState,
  InvoiceState,
  LightningBackend,
  PaymentState,
} from './backend.ts';
import { FAILURES, paymentOfPay, paymentOfPays } from './cln-payment.ts';
import {
  type ClnConnection,
  clnCall,
  malformed,
  msatOf,
  msatParam,
  refused,
  rejected,
} from './cln-request.ts';
import {
  checkNewInvoice,
  checkPayment,
  type Expected,
  invalid,
  madeAsAsked,
  sendThenFollow,
} from './pay-checks.ts';

export interface ClnRestOptions {
  /** clnrest's listener, e.g. https://127.0.0.1:3010/ */
  url: string;
  net: Net;
  identity: string | null;
  /** Read at each request, never copied: the caller owns it and wipes it after the last call. */
  rune: Uint8Array;
  /** The network the identity pays on: invoices of another are refused. */
  network: BitcoinNetwork;
  /** The `retry_for` Warden pays with (timeout_seconds): how long a payment may still be retried. */
  retryForSeconds: number;
}

const POLL_MS = 250;
/** Beyond `retry_for`, the time a last attempt takes to be listed (a slow node, a clock skew). */
const RETRY_GRACE_SECONDS = 30;
/** JSON-RPC codes of lightningd (common/jsonrpc_errors.h) that say no before anything is sent. */
const PAY_IN_PROGRESS = 200;
const PAY_RHASH_ALREADY_USED = 201;
/** xpay's "already paid" (PAY_INJECTPAYMENTONION_ALREADY_PAID). */
const PAY_ALREADY_PAID = 219;
const INVALID_PARAMS = -32602;
/** The channel states whose funds are the node's to spend (CHANNELD_AWAITING_SPLICE: still normal). */
const OPEN_STATES = new Set(['CHANNELD_NORMAL', 'CHANNELD_AWAITING_SPLICE']);
const OPENING_STATES = new Set([
  'OPENINGD',
  'CHANNELD_AWAITING_LOCKIN',
  'DUALOPEND_OPEN_INIT',
  'DUALOPEND_OPEN_COMMITTED',
  'DUALOPEND_OPEN_COMMIT_READY',
  'DUALOPEND_AWAITING_LOCKIN',
]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exists(reason: 'already_paid' | 'in_flight' | 'exists', message: string): WardenError {
  return new WardenError(
    'LIGHTNING_PAYMENT_EXISTS',
    `Core Lightning already has a payment of this invoice (${message})`,
    { protocol: 'lightning', reason },
  );
}

function safeMsat(msat: bigint, what: string): number {
  const n = msatParam(msat);
  if (n === null) throw invalid(`${what} is more msat than Warden sends to Core Lightning (2^53)`);
  return n;
}

export function createClnRestBackend(options: ClnRestOptions): LightningBackend {
  const c: ClnConnection = {
    base: new URL(options.url.endsWith('/') ? options.url : `${options.url}/`),
    net: options.net,
    identity: options.identity,
    rune: options.rune,
  };

  /** A read: the RPC's result, or its refusal as BACKEND_REJECTED. */
  async function read(method: string, params: Record<string, unknown>, what: string) {
    const reply = await clnCall(c, method, params, what);
    if (!reply.ok) throw refused(what, reply.error);
    return reply.result;
  }

  /**
   * listpays of one hash, checked against what was asked (cln-payment.ts). Every attempt failed
   * is a failure only once `pay` no longer retries: it returned (`payEnded`), or its newest
   * attempt is older than `retry_for` and a grace; until then the payment is in flight.
   */
  async function listed(expected: Expected, payEnded: boolean): Promise<PaymentState | null> {
    const what = 'listpays';
    const result = await read('listpays', { payment_hash: expected.paymentHash }, what);
    const found = paymentOfPays(result, expected, what);
    if (!found) return null;
    const retrying = Date.now() / 1000 < found.newestAt + options.retryForSeconds + RETRY_GRACE_SECONDS;
    if (found.state.status === 'failed' && !payEnded && retrying)
      return { status: 'in_flight', paymentHash: expected.paymentHash };
    return found.state;
  }

  /** Follows a payment until it is final or `deadline` passes; null: CLN has no payment of this hash. */
  async function follow(expected: Expected, deadline: number): Promise<PaymentState | null> {
    for (;;) {
      try {
        const state = await listed(expected, false);
        if (state === null || state.status !== 'in_flight') return state;
      } catch (err) {
        if (!(err instanceof WardenError && err.code === 'BACKEND_UNREACHABLE')) throw err;
      }
      const left = deadline - performance.now();
      if (left <= 0) return { status: 'in_flight', paymentHash: expected.paymentHash };
      await sleep(Math.min(POLL_MS, left));
    }
  }

  async function listedChannels(what: string): Promise<Record<string, unknown>[]> {
    const result = await read('listpeerchannels', {}, what);
    if (!Array.isArray(result.channels)) throw malformed(what, 'channels is not a list');
    return result.channels.map((ch) => {
      if (!isRecord(ch) || typeof ch.state !== 'string') throw malformed(what, 'a channel without a state');
      return ch;
    });
  }

  /** Our side and the whole of a channel, ours never more than the whole. */
  function sidesOf(ch: Record<string, unknown>, what: string) {
    const localMsat = msatOf(ch.to_us_msat, what, 'to_us_msat');
    const capacityMsat = msatOf(ch.total_msat, what, 'total_msat');
    if (localMsat > capacityMsat) throw malformed(what, 'to_us_msat above total_msat');
    return { localMsat, capacityMsat, remoteMsat: capacityMsat - localMsat };
  }

  const backend: LightningBackend = {
    kind: 'cln',

    async info() {
      const what = 'getinfo';
      const info = await read('getinfo', {}, what);
      if (!isNodeId(info.id)) throw malformed(what, 'id');
      const height = info.blockheight;
      if (!Number.isSafeInteger(height) || (height as number) < 0) throw malformed(what, 'blockheight');
      if (typeof info.network !== 'string') throw malformed(what, 'network');
      // CLN says it is behind only by these warnings (present while bitcoind or it is catching up).
      const synced = info.warning_bitcoind_sync === undefined && info.warning_lightningd_sync === undefined;
      return {
        nodeId: info.id,
        blockHeight: height as number,
        syncedToChain: synced,
        network: info.network.slice(0, 20),
      };
    },

    async balance(): Promise<ChannelBalance> {
      const what = 'listpeerchannels';
      const b = { localMsat: 0n, remoteMsat: 0n, unsettledLocalMsat: 0n, pendingOpenLocalMsat: 0n };
      for (const ch of await listedChannels(what)) {
        if (OPENING_STATES.has(ch.state as string)) {
          if (ch.to_us_msat !== undefined)
            b.pendingOpenLocalMsat += msatOf(ch.to_us_msat, what, 'to_us_msat');
          continue;
        }
        if (!OPEN_STATES.has(ch.state as string)) continue;
        const sides = sidesOf(ch, what);
        b.localMsat += sides.localMsat;
        b.remoteMsat += sides.remoteMsat;
        const htlcs = ch.htlcs ?? [];
        if (!Array.isArray(htlcs)) throw malformed(what, 'htlcs is not a list');
        for (const h of htlcs) {
          if (!isRecord(h)) throw malformed(what, 'an htlc that is not an object');
          if (h.direction === 'out') b.unsettledLocalMsat += msatOf(h.amount_msat, what, 'htlcs.amount_msat');
        }
      }
      return b;
    },

    async channels(): Promise<ChannelState[]> {
      const what = 'listpeerchannels';
      return (await listedChannels(what))
        .filter((ch) => ch.state === 'CHANNELD_NORMAL')
        .map((ch) => {
          if (
            typeof ch.short_channel_id !== 'string' ||
            !/^\d{1,10}x\d{1,10}x\d{1,5}$/.test(ch.short_channel_id)
          )
            throw malformed(what, 'short_channel_id');
          if (!isNodeId(ch.peer_id)) throw malformed(what, 'peer_id');
          if (typeof ch.peer_connected !== 'boolean') throw malformed(what, 'peer_connected');
          if (typeof ch.private !== 'boolean') throw malformed(what, 'private');
          return {
            channelId: ch.short_channel_id,
            peerId: ch.peer_id,
            active: ch.peer_connected,
            private: ch.private,
            ...sidesOf(ch, what),
          };
        });
    },

    async decode(bolt11) {
      const what = 'decode';
      const invoice = decodeBolt11(bolt11);
      const d = await read('decode', { string: bolt11 }, what);
      const amount = d.amount_msat === undefined ? null : msatOf(d.amount_msat, what, 'amount_msat');
      const agrees =
        d.type === 'bolt11 invoice' &&
        d.valid === true &&
        d.payee === invoice.payee &&
        d.payment_hash === invoice.paymentHash &&
        amount === invoice.amountMsat &&
        d.expiry === invoice.expirySeconds &&
        d.created_at === invoice.timestamp;
      if (!agrees)
        throw rejected(what, {
          reason: 'mismatch',
          message: 'Core Lightning reads the invoice otherwise than Warden',
        });
      return invoice;
    },

    async pay(bolt11, o) {
      const { invoice, expected, deadline } = checkPayment(bolt11, o, options.network);
      const params = {
        bolt11,
        maxfee: safeMsat(expected.feeLimitMsat, 'the fee limit'),
        retry_for: o.timeoutSeconds,
        ...(invoice.amountMsat === null ? { amount_msat: safeMsat(expected.amountMsat, 'the amount') } : {}),
      };
      // CLN's pay answers an invoice it has paid with that payment, as if new: ask first.
      const before = await listed(expected, false);
      if (before?.status === 'succeeded') throw exists('already_paid', 'it is paid');
      if (before?.status === 'in_flight') throw exists('in_flight', 'it is in flight');
      return sendThenFollow(
        'Core Lightning',
        async () => {
          const reply = await clnCall(
            c,
            'pay',
            params,
            'the payment',
            AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now()))),
          );
          if (reply.ok) {
            const state = paymentOfPay(reply.result, expected, 'the payment');
            if (state) return state;
          } else {
            const { code, message } = reply.error;
            if (code === PAY_IN_PROGRESS) throw exists('in_flight', message);
            if (code === PAY_RHASH_ALREADY_USED) throw exists('exists', message);
            if (code === PAY_ALREADY_PAID) throw exists('already_paid', message);
            if (code === INVALID_PARAMS) throw refused('the payment', reply.error);
            // A failure is believed when listpays agrees; nothing listed: nothing was sent.
            const now = await listed(expected, true);
            const reason = FAILURES[code];
            if (now === null) {
              if (reason) return { status: 'failed', paymentHash: expected.paymentHash, reason };
              throw refused('the payment', reply.error);
            }
            if (now.status === 'failed') return { ...now, reason: reason ?? 'error' };
            if (now.status === 'succeeded') return now;
          }
          return null;
        },
        () => follow(expected, deadline),
      );
    },

    async track(paymentHash, waitMs) {
      if (!isHash(paymentHash)) throw invalid('a payment hash is 64 lower-case hex digits');
      return follow({ paymentHash, amountMsat: null, feeLimitMsat: null }, performance.now() + waitMs);
    },

    async createInvoice(request) {
      const what = 'invoice';
      checkNewInvoice(request);
      const params = {
        amount_msat: safeMsat(request.amountMsat, 'the amount'),
        // Unique per node; random so that it says nothing about the identity or the request.
        label: `warden-${hex.encode(randomBytes(16))}`,
        description: request.description,
        expiry: request.expirySeconds,
        // Route hints for the node's unannounced channels, or nobody could reach them.
        exposeprivatechannels: true,
      };
      const made = await read('invoice', params, what);
      const { bolt11, payment_hash: paymentHash } = made;
      if (typeof bolt11 !== 'string') throw malformed(what, 'bolt11');
      if (!isHash(paymentHash)) throw malformed(what, 'payment_hash');
      let invoice: Bolt11Invoice;
      try {
        invoice = decodeBolt11(bolt11);
      } catch {
        throw malformed(what, 'bolt11 is not a valid invoice');
      }
      // Payable to this node, not to one an answer names: the payee is checked against getinfo's id.
      const { nodeId } = await backend.info();
      if (!madeAsAsked(invoice, paymentHash, request, options.network) || invoice.payee !== nodeId)
        throw rejected(what, {
          reason: 'mismatch',
          message: 'the invoice Core Lightning made is not the one asked for',
        });
      return { bolt11, paymentHash, invoice };
    },

    async lookupInvoice(paymentHash): Promise<InvoiceState | null> {
      const what = 'listinvoices';
      if (!isHash(paymentHash)) throw invalid('a payment hash is 64 lower-case hex digits');
      const result = await read('listinvoices', { payment_hash: paymentHash }, what);
      if (!Array.isArray(result.invoices)) throw malformed(what, 'invoices is not a list');
      if (result.invoices.length === 0) return null;
      if (result.invoices.length > 1) throw malformed(what, 'two invoices of one hash');
      const inv = result.invoices[0] as unknown;
      if (!isRecord(inv) || inv.payment_hash !== paymentHash) throw malformed(what, 'another invoice');
      // An invoice for any amount has none (Warden's always have one).
      const amountMsat = inv.amount_msat === undefined ? 0n : msatOf(inv.amount_msat, what, 'amount_msat');
      switch (inv.status) {
        case 'unpaid':
          return { state: 'open', paymentHash, amountMsat };
        case 'expired':
          return { state: 'canceled', paymentHash, amountMsat };
        case 'paid': {
          const paidMsat = msatOf(inv.amount_received_msat, what, 'amount_received_msat');
          if (paidMsat < amountMsat) throw malformed(what, 'paid less than its amount');
          const preimage = inv.payment_preimage;
          if (!isHash(preimage) || !opens(preimage, paymentHash))
            throw malformed(what, 'a preimage that does not open the payment hash');
          return { state: 'settled', paymentHash, amountMsat, paidMsat, preimage };
        }
        default:
          throw malformed(what, 'an unknown invoice status');
      }
    },

    async keysend() {
      throw new WardenError(
        'LIGHTNING_NOT_SUPPORTED',
        "Core Lightning's keysend picks its own preimage; Warden pays keysend only with the preimage it chose",
        { protocol: 'lightning', backend: 'cln', feature: 'keysend' },
      );
    },
  };
  return backend;
}
