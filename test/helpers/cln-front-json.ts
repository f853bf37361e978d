import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bech32 } from '@scure/base';
import * as ldk from 'lightningdevkit';
import { amountOf, descriptionOf, nowSeconds } from './ldk-front.ts';
import { hexOf, type LdkPeer } from './ldk-peer.ts';

/**
 * Core Lightning's JSON for what a real LDK node knows, for the CLN REST front
 * (cln-rest-front.ts): the results of getinfo, listpeerchannels, decode, pay, listpays, invoice and
 * listinvoices as CLN's doc/schemas describe them (test/protocols/lightning/cln-rest/), amounts as
 * JSON numbers of msat, hashes and keys as hex, short channel ids as BLOCKxTXxOUT.
 */

export type ClnPayStatus = 'pending' | 'complete' | 'failed';

/** One `pay` of a hash (CLN lists each attempt group of a hash on its own). */
export interface ClnFrontPayment {
  paymentId: string;
  paymentHash: string;
  bolt11: string;
  destination: string;
  amountMsat: bigint;
  createdAt: number;
  createdIndex: number;
  status: ClnPayStatus;
  preimage: string;
  feeMsat: bigint;
  completedAt: number;
}

export interface ClnFrontInvoice {
  label: string;
  description: string;
  bolt11: string;
  invoice: ldk.Bolt11Invoice;
  amountMsat: bigint | null;
  expiresAt: number;
  createdIndex: number;
}

export interface ClnFrontChain {
  height(): number;
}

/** An msat amount as CLN writes it (a JSON number); the front's amounts stay well below 2^53. */
export const msat = (value: bigint) => Number(value);

/** LDK's u64 short channel id as CLN writes it. */
export function scidOf(scid: bigint): string {
  return `${scid >> 40n}x${(scid >> 16n) & 0xffffffn}x${scid & 0xffffn}`;
}

/** The invoice's signature (its last 104 five-bit words: r‖s‖recovery id) as DER hex, as CLN's decode writes it. */
function signatureOf(bolt11: string): string {
  const { words } = bech32.decode(bolt11.toLowerCase() as `${string}1${string}`, false);
  const bytes = bech32.fromWords(words.slice(-104));
  return secp256k1.Signature.fromBytes(bytes.slice(0, 64), 'compact').toHex('der');
}

export function decodeJson(text: string, invoice: ldk.Bolt11Invoice) {
  const amount = amountOf(invoice);
  const routes = invoice.route_hints().map((hint) =>
    hint.get_a().map((hop) => ({
      pubkey: hexOf(hop.get_src_node_id()),
      short_channel_id: scidOf(hop.get_short_channel_id()),
      fee_base_msat: hop.get_fees().get_base_msat(),
      fee_proportional_millionths: hop.get_fees().get_proportional_millionths(),
      cltv_expiry_delta: hop.get_cltv_expiry_delta(),
    })),
  );
  return {
    type: 'bolt11 invoice',
    valid: true,
    currency: 'bcrt',
    created_at: Number(invoice.duration_since_epoch()),
    expiry: Number(invoice.expiry_time()),
    payee: hexOf(invoice.recover_payee_pub_key()),
    ...(amount === 0n ? {} : { amount_msat: msat(amount) }),
    payment_hash: hexOf(invoice.payment_hash()),
    signature: signatureOf(text),
    description: descriptionOf(invoice),
    min_final_cltv_expiry: Number(invoice.min_final_cltv_expiry_delta()),
    payment_secret: hexOf(invoice.payment_secret()),
    ...(routes.length > 0 ? { routes } : {}),
  };
}

/** pay's result of a complete payment. */
export function payJson(p: ClnFrontPayment) {
  return {
    destination: p.destination,
    payment_hash: p.paymentHash,
    created_at: p.createdAt,
    parts: 1,
    amount_msat: msat(p.amountMsat),
    amount_sent_msat: msat(p.amountMsat + p.feeMsat),
    payment_preimage: p.preimage,
    status: 'complete',
  };
}

/** One entry of listpays. */
export function listPaysEntry(p: ClnFrontPayment) {
  const common = {
    created_index: p.createdIndex,
    payment_hash: p.paymentHash,
    status: p.status,
    destination: p.destination,
    created_at: p.createdAt,
    bolt11: p.bolt11,
  };
  switch (p.status) {
    case 'complete':
      return {
        ...common,
        completed_at: p.completedAt,
        amount_msat: msat(p.amountMsat),
        amount_sent_msat: msat(p.amountMsat + p.feeMsat),
        preimage: p.preimage,
      };
    case 'failed':
      return { ...common, amount_sent_msat: msat(p.amountMsat) };
    case 'pending':
      return { ...common, amount_msat: msat(p.amountMsat), amount_sent_msat: msat(p.amountMsat) };
  }
}

export function invoiceEntry(node: LdkPeer, inv: ClnFrontInvoice) {
  const hash = hexOf(inv.invoice.payment_hash());
  const paid = node.claimed.get(hash);
  const common = {
    label: inv.label,
    description: inv.description,
    payment_hash: hash,
    expires_at: inv.expiresAt,
    ...(inv.amountMsat === null ? {} : { amount_msat: msat(inv.amountMsat) }),
    bolt11: inv.bolt11,
    created_index: inv.createdIndex,
  };
  if (paid === undefined)
    return { ...common, status: Number(nowSeconds()) >= inv.expiresAt ? 'expired' : 'unpaid' };
  const preimage = node.cm.get_payment_preimage(inv.invoice.payment_hash(), inv.invoice.payment_secret());
  return {
    ...common,
    status: 'paid',
    updated_index: 1,
    pay_index: inv.createdIndex,
    amount_received_msat: msat(paid),
    paid_at: Number(nowSeconds()),
    payment_preimage: preimage instanceof ldk.Result_ThirtyTwoBytesAPIErrorZ_OK ? hexOf(preimage.res) : '',
  };
}

/** LDK's channels as listpeerchannels lists them (usable ones CHANNELD_NORMAL, others awaiting lockin). */
export function peerChannelsJson(node: LdkPeer) {
  return node.cm.list_channels().map((c) => {
    const scid = c.get_short_channel_id();
    const txo = c.get_funding_txo();
    const reserve = c.get_unspendable_punishment_reserve();
    const reserveMsat = reserve instanceof ldk.Option_u64Z_Some ? reserve.some * 1000n : 0n;
    // LDK's outbound capacity is what a payment can use; CLN's to_us_msat holds the reserve too.
    const spendable = c.get_outbound_capacity_msat();
    const total = c.get_channel_value_satoshis() * 1000n;
    const toUs = c.get_is_channel_ready() ? spendable + reserveMsat : c.get_is_outbound() ? total : 0n;
    const peerId = hexOf(c.get_counterparty().get_node_id());
    const htlcs = [
      ...c.get_pending_outbound_htlcs().map((h) => ({
        direction: 'out',
        id: Number(
          h.get_htlc_id() instanceof ldk.Option_u64Z_Some
            ? (h.get_htlc_id() as ldk.Option_u64Z_Some).some
            : 0n,
        ),
        amount_msat: msat(h.get_amount_msat()),
        expiry: h.get_cltv_expiry(),
        payment_hash: hexOf(h.get_payment_hash()),
        state: 'SENT_ADD_ACK_REVOCATION',
      })),
      ...c.get_pending_inbound_htlcs().map((h) => ({
        direction: 'in',
        id: Number(h.get_htlc_id()),
        amount_msat: msat(h.get_amount_msat()),
        expiry: h.get_cltv_expiry(),
        payment_hash: hexOf(h.get_payment_hash()),
        state: 'RCVD_ADD_ACK_REVOCATION',
      })),
    ];
    return {
      peer_id: peerId,
      peer_connected: Boolean(c.get_is_usable()),
      state: c.get_is_channel_ready() ? 'CHANNELD_NORMAL' : 'CHANNELD_AWAITING_LOCKIN',
      opener: c.get_is_outbound() ? 'local' : 'remote',
      features: ['option_static_remotekey'],
      private: !c.get_is_announced(),
      // BOLT 7: direction 0 is the channel as seen from the lesser node id.
      ...(scid instanceof ldk.Option_u64Z_Some
        ? { short_channel_id: scidOf(scid.some), direction: node.idHex < peerId ? 0 : 1 }
        : {}),
      channel_id: hexOf(c.get_channel_id().get_a()),
      ...(txo
        ? { funding_txid: hexOf(txo.get_txid().slice().reverse()), funding_outnum: txo.get_index() }
        : {}),
      to_us_msat: msat(toUs),
      total_msat: msat(total),
      our_reserve_msat: msat(reserveMsat),
      spendable_msat: msat(spendable),
      receivable_msat: msat(c.get_inbound_capacity_msat()),
      htlcs,
    };
  });
}

export function getInfoJson(node: LdkPeer, chain: ClnFrontChain) {
  const channels = node.cm.list_channels();
  return {
    id: node.idHex,
    alias: node.name,
    color: '000000',
    num_peers: new Set(channels.map((c) => hexOf(c.get_counterparty().get_node_id()))).size,
    num_pending_channels: channels.filter((c) => !c.get_is_channel_ready()).length,
    num_active_channels: channels.filter((c) => c.get_is_usable()).length,
    num_inactive_channels: channels.filter((c) => c.get_is_channel_ready() && !c.get_is_usable()).length,
    address: [],
    binding: [],
    version: 'warden-cln-rest-front (LDK 0.1.0)',
    blockheight: chain.height(),
    network: 'regtest',
    fees_collected_msat: msat(node.forwardedFeesMsat),
    'lightning-dir': '/nonexistent/regtest',
  };
}

/** LDK's reason a payment failed → the error CLN's pay answers with (common/jsonrpc_errors.h). */
export function clnFailure(
  reason: ldk.PaymentFailureReason | null,
  timedOut: boolean,
): { code: number; message: string } {
  const R = ldk.PaymentFailureReason;
  if (timedOut) return { code: 210, message: 'Timed out' };
  switch (reason) {
    case R.LDKPaymentFailureReason_RecipientRejected:
      return {
        code: 203,
        message: "Destination said it doesn't know invoice: incorrect_or_unknown_payment_details",
      };
    case R.LDKPaymentFailureReason_PaymentExpired:
      return { code: 207, message: 'Invoice expired' };
    case R.LDKPaymentFailureReason_RouteNotFound:
    case R.LDKPaymentFailureReason_RetriesExhausted:
      return { code: 205, message: 'Ran out of routes to try' };
    default:
      return { code: -1, message: 'Payment failed' };
  }
}
