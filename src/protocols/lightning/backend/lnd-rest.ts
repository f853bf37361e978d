/**
 * lnd's REST API as Warden's Lightning backend: getinfo, the channel balance, decoding, paying by
 * invoice or by keysend (SendPaymentV2, streamed: lnd-send.ts) and following a payment
 * (TrackPaymentV2), making and looking up invoices, the channels. Everything goes through net/ (Tor or direct as configured); the macaroon is handed
 * in as bytes and only ever written into the request header, never into an error or a log.
 *
 * Every answer is hostile until checked (lnd-payment.ts, and here): the invoice is decoded by
 * Warden (bolt11.ts) and lnd's decoding, the invoices it makes and the payments it reports must
 * agree with it. A payment once sent is never reported failed or succeeded on a doubtful answer:
 * a malformed one is OUTCOME_UNKNOWN (its reservation stays until reconciled), a cut stream is
 * followed by tracking until the caller's wait is over, then `in_flight`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64, hex } from '@scure/base';
import { WardenError } from '../../../core/errors.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import type { Net } from '../../../net/http.ts';
import { type Bolt11Invoice, decodeBolt11, MAX_AMOUNT_MSAT } from '../bolt11.ts';
import { isHash, isRecord, opens } from './answers.ts';
import type {
  ChannelBalance,
  InvoiceState,
  KeysendOptions,
  LightningBackend,
  MadeInvoice,
  NewInvoice,
} from './backend.ts';
import { channelsOf } from './lnd-channels.ts';
import { amountOf, checkSatOf } from './lnd-payment.ts';
import { grpcStatusOf, type LndConnection, lndCall, malformed, refusal, rejected } from './lnd-request.ts';
import { lndSender } from './lnd-send.ts';
import {
  checkNewInvoice,
  checkPayment,
  checkSendLimits,
  type Expected,
  invalid,
  madeAsAsked,
  payDeadline,
} from './pay-checks.ts';

export interface LndRestOptions {
  /** lnd's REST listener, e.g. https://127.0.0.1:8080/ */
  url: string;
  net: Net;
  identity: string | null;
  /**
   * Read at each request, never copied: the caller owns it and wipes it after the last call (a
   * backend credential lent for one execution: keys/capabilities.ts).
   */
  macaroon: Uint8Array;
  /** The network the identity pays on: invoices of another are refused. */
  network: BitcoinNetwork;
}

const GRPC_NOT_FOUND = 5;
/** The TLV record of a keysend payment's preimage (bLIP-0003). */
const KEYSEND_RECORD = '5482373484';

function base64Bytes(value: unknown, length: number, what: string, field: string): Uint8Array {
  let bytes: Uint8Array | null = null;
  try {
    bytes = typeof value === 'string' ? base64.decode(value) : null;
  } catch {
    bytes = null;
  }
  if (!bytes || bytes.length !== length) throw malformed(what, `${field} is not ${length} bytes of base64`);
  return bytes;
}

export function createLndRestBackend(options: LndRestOptions): LightningBackend {
  const c: LndConnection = {
    base: new URL(options.url.endsWith('/') ? options.url : `${options.url}/`),
    net: options.net,
    identity: options.identity,
    macaroon: options.macaroon,
  };

  async function get(path: string, what: string, notFoundOk = false): Promise<unknown> {
    const reply = await lndCall(c, 'GET', path, undefined, what);
    if (notFoundOk && reply.status === 404 && grpcStatusOf(reply.json)?.code === GRPC_NOT_FOUND) return null;
    if (reply.status !== 200) throw refusal(what, reply.status, reply.json);
    if (!isRecord(reply.json)) throw malformed(what, 'not an object');
    return reply.json;
  }

  const { follow, dispatch } = lndSender(c);

  return {
    kind: 'lnd',

    async info() {
      const what = 'getinfo';
      const info = (await get('v1/getinfo', what)) as Record<string, unknown>;
      const nodeId = info.identity_pubkey;
      if (typeof nodeId !== 'string' || !/^0[23][0-9a-f]{64}$/.test(nodeId))
        throw malformed(what, 'identity_pubkey');
      const height = info.block_height;
      if (!Number.isSafeInteger(height) || (height as number) < 0) throw malformed(what, 'block_height');
      if (typeof info.synced_to_chain !== 'boolean') throw malformed(what, 'synced_to_chain');
      const chain = Array.isArray(info.chains) ? info.chains[0] : undefined;
      if (!isRecord(chain) || typeof chain.network !== 'string') throw malformed(what, 'chains');
      return {
        nodeId,
        blockHeight: height as number,
        syncedToChain: info.synced_to_chain,
        network: chain.network.slice(0, 20),
      };
    },

    async balance(): Promise<ChannelBalance> {
      const what = 'the channel balance';
      const b = (await get('v1/balance/channels', what)) as Record<string, unknown>;
      const msatOf = (field: string) => {
        const amount = b[field];
        if (!isRecord(amount)) throw malformed(what, field);
        const msat = amountOf(amount.msat, what, `${field}.msat`);
        checkSatOf(msat, amount.sat, what, `${field}.sat`);
        return msat;
      };
      return {
        localMsat: msatOf('local_balance'),
        remoteMsat: msatOf('remote_balance'),
        unsettledLocalMsat: msatOf('unsettled_local_balance'),
        pendingOpenLocalMsat: msatOf('pending_open_local_balance'),
      };
    },

    async decode(bolt11) {
      const what = 'decodepayreq';
      const invoice = decodeBolt11(bolt11);
      const d = (await get(`v1/payreq/${encodeURIComponent(bolt11)}`, what)) as Record<string, unknown>;
      const msat = amountOf(d.num_msat, what, 'num_msat');
      checkSatOf(msat, d.num_satoshis, what, 'num_satoshis');
      const agrees =
        d.destination === invoice.payee &&
        d.payment_hash === invoice.paymentHash &&
        msat === (invoice.amountMsat ?? 0n) &&
        d.expiry === String(invoice.expirySeconds) &&
        d.timestamp === String(invoice.timestamp);
      if (!agrees)
        throw rejected(what, { reason: 'mismatch', message: 'lnd reads the invoice otherwise than Warden' });
      return invoice;
    },

    async pay(bolt11, o) {
      const { invoice, expected, deadline } = checkPayment(bolt11, o, options.network);
      const body = {
        payment_request: bolt11,
        timeout_seconds: o.timeoutSeconds,
        fee_limit_sat: o.feeLimitSat.toString(),
        no_inflight_updates: false,
        ...(invoice.amountMsat === null ? { amt_msat: expected.amountMsat.toString() } : {}),
      };
      return dispatch(body, expected, deadline);
    },

    async keysend(o: KeysendOptions) {
      checkSendLimits(o);
      if (typeof o.destination !== 'string' || !/^0[23][0-9a-f]{64}$/.test(o.destination))
        throw invalid('a keysend destination is a node id: 33 bytes of compressed key, lower-case hex');
      if (typeof o.amountMsat !== 'bigint' || o.amountMsat <= 0n || o.amountMsat > MAX_AMOUNT_MSAT)
        throw new WardenError('INVALID_AMOUNT', 'a keysend pays a positive amount of msat', {
          protocol: 'lightning',
        });
      if (!(o.preimage instanceof Uint8Array) || o.preimage.length !== 32)
        throw invalid('a keysend preimage is 32 bytes');
      const hash = sha256(o.preimage);
      const expected: Expected = {
        paymentHash: hex.encode(hash),
        amountMsat: o.amountMsat,
        feeLimitMsat: o.feeLimitSat * 1000n,
      };
      // lnd's keysend: the preimage in the custom record BOLT's keysend names (5482373484), the
      // hash given, no invoice. The body holds the preimage as text only while it is sent.
      const body = {
        dest: base64.encode(hex.decode(o.destination)),
        amt_msat: o.amountMsat.toString(),
        payment_hash: base64.encode(hash),
        dest_custom_records: { [KEYSEND_RECORD]: base64.encode(o.preimage) },
        timeout_seconds: o.timeoutSeconds,
        fee_limit_sat: o.feeLimitSat.toString(),
        no_inflight_updates: false,
      };
      return dispatch(body, expected, payDeadline(o));
    },

    async track(paymentHash, waitMs) {
      if (!isHash(paymentHash)) throw invalid('a payment hash is 64 lower-case hex digits');
      return follow({ paymentHash, amountMsat: null, feeLimitMsat: null }, performance.now() + waitMs);
    },

    async createInvoice(request: NewInvoice): Promise<MadeInvoice> {
      const what = 'addinvoice';
      checkNewInvoice(request);
      const { amountMsat, description, expirySeconds } = request;
      // `private`: route hints for the node's unannounced channels, or nobody could reach them.
      const body = {
        memo: description,
        value_msat: amountMsat.toString(),
        expiry: String(expirySeconds),
        private: true,
      };
      const reply = await lndCall(c, 'POST', 'v1/invoices', body, what);
      if (reply.status !== 200) throw refusal(what, reply.status, reply.json);
      if (!isRecord(reply.json)) throw malformed(what, 'not an object');
      const paymentHash = hex.encode(base64Bytes(reply.json.r_hash, 32, what, 'r_hash'));
      const bolt11 = reply.json.payment_request;
      if (typeof bolt11 !== 'string') throw malformed(what, 'payment_request');
      let invoice: Bolt11Invoice;
      try {
        invoice = decodeBolt11(bolt11);
      } catch {
        throw malformed(what, 'payment_request is not a valid invoice');
      }
      if (!madeAsAsked(invoice, paymentHash, request, options.network))
        throw rejected(what, {
          reason: 'mismatch',
          message: 'the invoice lnd made is not the one asked for',
        });
      return { bolt11, paymentHash, invoice };
    },

    async lookupInvoice(paymentHash): Promise<InvoiceState | null> {
      const what = 'lookupinvoice';
      if (!isHash(paymentHash)) throw invalid('a payment hash is 64 lower-case hex digits');
      const inv = (await get(`v1/invoice/${paymentHash}`, what, true)) as Record<string, unknown> | null;
      if (inv === null) return null;
      if (hex.encode(base64Bytes(inv.r_hash, 32, what, 'r_hash')) !== paymentHash)
        throw malformed(what, 'another invoice');
      const amountMsat = amountOf(inv.value_msat, what, 'value_msat');
      switch (inv.state) {
        case 'OPEN':
        case 'ACCEPTED':
        case 'CANCELED':
          return {
            state: inv.state === 'OPEN' ? 'open' : inv.state === 'ACCEPTED' ? 'accepted' : 'canceled',
            paymentHash,
            amountMsat,
          };
        case 'SETTLED': {
          const paidMsat = amountOf(inv.amt_paid_msat, what, 'amt_paid_msat');
          if (paidMsat < amountMsat) throw malformed(what, 'settled for less than its amount');
          const preimage = hex.encode(base64Bytes(inv.r_preimage, 32, what, 'r_preimage'));
          if (!opens(preimage, paymentHash))
            throw malformed(what, 'a preimage that does not open the payment hash');
          // lnd writes 0 where it has no date (an invoice settled before lnd kept them).
          const settledAt =
            inv.settle_date === undefined ? 0n : amountOf(inv.settle_date, what, 'settle_date');
          if (settledAt > BigInt(Number.MAX_SAFE_INTEGER))
            throw malformed(what, 'settle_date is out of range');
          return {
            state: 'settled',
            paymentHash,
            amountMsat,
            paidMsat,
            preimage,
            ...(settledAt > 0n ? { settledAt: Number(settledAt) } : {}),
          };
        }
        default:
          throw malformed(what, 'an unknown invoice state');
      }
    },

    // Every open channel, active or not (an inactive one is a peer offline: the monitor says so).
    async channels() {
      const what = 'listchannels';
      return channelsOf((await get('v1/channels', what)) as Record<string, unknown>, what);
    },
  };
}
