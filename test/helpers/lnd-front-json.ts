import * as ldk from 'lightningdevkit';
import { amountOf, descriptionOf, nowSeconds } from './ldk-front.ts';
import { hexOf, type LdkPeer } from './ldk-peer.ts';

/**
 * lnd's REST JSON for what a real LDK node knows, for the LND REST front (lnd-rest-front.ts): the
 * messages of lnd's swagger (Payment, PayReq, Invoice, Channel, ChannelBalanceResponse,
 * GetInfoResponse) with proto field names, int64s as decimal strings, bytes as base64, the
 * Payment's hash and preimage as hex. Fields Warden does not read are left empty or zero.
 */

export interface LndFrontChain {
  height(): number;
  tipHash(): string;
}

export const ZERO_PREIMAGE = '0'.repeat(64);

export type PaymentStatus = 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';

export interface FrontPayment {
  paymentId: string;
  paymentHash: string;
  paymentRequest: string;
  valueMsat: bigint;
  creationNs: bigint;
  index: bigint;
  status: PaymentStatus;
  preimage: string;
  feeMsat: bigint;
  failureReason: string;
  timedOut: boolean;
}

export interface FrontInvoice {
  memo: string;
  paymentRequest: string;
  invoice: ldk.Bolt11Invoice;
  valueMsat: bigint;
  creationDate: bigint;
  expiry: bigint;
  isPrivate: boolean;
  addIndex: bigint;
}

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** LDK's reason → lnd's. LDK has no "insufficient balance": it says no route. */
export function lndFailureReason(reason: ldk.PaymentFailureReason | null, timedOut: boolean): string {
  const R = ldk.PaymentFailureReason;
  if (timedOut) return 'FAILURE_REASON_TIMEOUT';
  switch (reason) {
    case R.LDKPaymentFailureReason_RecipientRejected:
      return 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS';
    case R.LDKPaymentFailureReason_UserAbandoned:
      return 'FAILURE_REASON_CANCELED';
    case R.LDKPaymentFailureReason_RouteNotFound:
    case R.LDKPaymentFailureReason_RetriesExhausted:
      return 'FAILURE_REASON_NO_ROUTE';
    case R.LDKPaymentFailureReason_PaymentExpired:
      return 'FAILURE_REASON_TIMEOUT';
    default:
      return 'FAILURE_REASON_ERROR';
  }
}

function routeHintsOf(invoice: ldk.Bolt11Invoice) {
  return invoice.route_hints().map((hint) => ({
    hop_hints: hint.get_a().map((hop) => ({
      node_id: hexOf(hop.get_src_node_id()),
      chan_id: hop.get_short_channel_id().toString(),
      fee_base_msat: hop.get_fees().get_base_msat(),
      fee_proportional_millionths: hop.get_fees().get_proportional_millionths(),
      cltv_expiry_delta: hop.get_cltv_expiry_delta(),
    })),
  }));
}

export function paymentJson(p: FrontPayment) {
  return {
    payment_hash: p.paymentHash,
    value: (p.valueMsat / 1000n).toString(),
    creation_date: (p.creationNs / 1_000_000_000n).toString(),
    fee: (p.feeMsat / 1000n).toString(),
    payment_preimage: p.preimage,
    value_sat: (p.valueMsat / 1000n).toString(),
    value_msat: p.valueMsat.toString(),
    payment_request: p.paymentRequest,
    status: p.status,
    fee_sat: (p.feeMsat / 1000n).toString(),
    fee_msat: p.feeMsat.toString(),
    creation_time_ns: p.creationNs.toString(),
    htlcs: [],
    payment_index: p.index.toString(),
    failure_reason: p.failureReason,
    first_hop_custom_records: {},
  };
}

export function payReqJson(invoice: ldk.Bolt11Invoice) {
  const msat = amountOf(invoice);
  return {
    destination: hexOf(invoice.recover_payee_pub_key()),
    payment_hash: hexOf(invoice.payment_hash()),
    num_satoshis: (msat / 1000n).toString(),
    timestamp: invoice.duration_since_epoch().toString(),
    expiry: invoice.expiry_time().toString(),
    description: descriptionOf(invoice),
    description_hash: '',
    fallback_addr: '',
    cltv_expiry: invoice.min_final_cltv_expiry_delta().toString(),
    route_hints: routeHintsOf(invoice),
    payment_addr: b64(invoice.payment_secret()),
    num_msat: msat.toString(),
    features: {},
    blinded_paths: [],
  };
}

export function invoiceJson(
  node: LdkPeer,
  inv: FrontInvoice,
  state: 'OPEN' | 'ACCEPTED' | 'SETTLED' | 'CANCELED',
) {
  const paid = node.claimed.get(hexOf(inv.invoice.payment_hash()));
  const preimage = node.cm.get_payment_preimage(inv.invoice.payment_hash(), inv.invoice.payment_secret());
  return {
    memo: inv.memo,
    r_preimage: preimage instanceof ldk.Result_ThirtyTwoBytesAPIErrorZ_OK ? b64(preimage.res) : '',
    r_hash: b64(inv.invoice.payment_hash()),
    value: (inv.valueMsat / 1000n).toString(),
    value_msat: inv.valueMsat.toString(),
    settled: state === 'SETTLED',
    creation_date: inv.creationDate.toString(),
    settle_date: String(node.claimedAt.get(hexOf(inv.invoice.payment_hash())) ?? 0),
    payment_request: inv.paymentRequest,
    description_hash: '',
    expiry: inv.expiry.toString(),
    fallback_addr: '',
    cltv_expiry: inv.invoice.min_final_cltv_expiry_delta().toString(),
    route_hints: routeHintsOf(inv.invoice),
    private: inv.isPrivate,
    add_index: inv.addIndex.toString(),
    settle_index: '0',
    amt_paid: ((paid ?? 0n) * 1000n).toString(),
    amt_paid_sat: ((paid ?? 0n) / 1000n).toString(),
    amt_paid_msat: (paid ?? 0n).toString(),
    state,
    htlcs: [],
    features: {},
    is_keysend: false,
    payment_addr: b64(inv.invoice.payment_secret()),
    is_amp: false,
    amp_invoice_state: {},
  };
}

/**
 * lnd's ListChannels: open channels only (one still opening is in PendingChannels, not here), and
 * `local_balance`/`remote_balance` as lnd counts them, each side's balance in the commitment with
 * its channel reserve in it. LDK tells what each side can still send (its balance less the
 * reserve the other side asked for): the reserve is added back when there is anything above it;
 * a side with nothing spendable shows 0 (its balance is somewhere below its reserve, LDK does not
 * say where): never more than lnd would say.
 */
export function channelsJson(node: LdkPeer) {
  return node.cm
    .list_channels()
    .filter((c) => c.get_is_channel_ready())
    .map((c) => channelJson(c));
}

function channelJson(c: ldk.ChannelDetails) {
  const txo = c.get_funding_txo();
  const scid = c.get_short_channel_id();
  const reserve = c.get_unspendable_punishment_reserve();
  const ourReserveSat = reserve instanceof ldk.Option_u64Z_Some ? reserve.some : 0n;
  const theirReserveSat = c.get_counterparty().get_unspendable_punishment_reserve();
  const balanceSat = (spendableMsat: bigint, reserveSat: bigint) =>
    spendableMsat > 0n ? spendableMsat / 1000n + reserveSat : 0n;
  return {
    active: Boolean(c.get_is_usable()),
    remote_pubkey: hexOf(c.get_counterparty().get_node_id()),
    channel_point: txo ? `${hexOf(txo.get_txid().slice().reverse())}:${txo.get_index()}` : '',
    chan_id: scid instanceof ldk.Option_u64Z_Some ? scid.some.toString() : '0',
    capacity: c.get_channel_value_satoshis().toString(),
    local_balance: balanceSat(c.get_outbound_capacity_msat(), ourReserveSat).toString(),
    remote_balance: balanceSat(c.get_inbound_capacity_msat(), theirReserveSat).toString(),
    private: !c.get_is_announced(),
    initiator: Boolean(c.get_is_outbound()),
    local_chan_reserve_sat: ourReserveSat.toString(),
    pending_htlcs: [],
  };
}

export function balanceJson(node: LdkPeer) {
  const amount = (msat: bigint) => ({ sat: (msat / 1000n).toString(), msat: msat.toString() });
  let local = 0n;
  let remote = 0n;
  let pending = 0n;
  let unsettled = 0n;
  for (const c of node.cm.list_channels()) {
    if (!c.get_is_channel_ready()) {
      pending += c.get_is_outbound() ? c.get_channel_value_satoshis() * 1000n : 0n;
      continue;
    }
    // LDK's spendable amounts (without the channel reserve and commitment fee): what a payment can use.
    local += c.get_outbound_capacity_msat();
    remote += c.get_inbound_capacity_msat();
    for (const h of c.get_pending_outbound_htlcs()) unsettled += h.get_amount_msat();
  }
  return {
    balance: (local / 1000n).toString(),
    pending_open_balance: (pending / 1000n).toString(),
    local_balance: amount(local),
    remote_balance: amount(remote),
    unsettled_local_balance: amount(unsettled),
    unsettled_remote_balance: amount(0n),
    pending_open_local_balance: amount(pending),
    pending_open_remote_balance: amount(0n),
    custom_channel_data: '',
  };
}

export function getInfoJson(node: LdkPeer, chain: LndFrontChain) {
  const channels = node.cm.list_channels();
  return {
    version: 'warden-lnd-rest-front (LDK 0.1.0)',
    commit_hash: '',
    identity_pubkey: node.idHex,
    alias: node.name,
    color: '#000000',
    num_pending_channels: channels.filter((c) => !c.get_is_channel_ready()).length,
    num_active_channels: channels.filter((c) => c.get_is_usable()).length,
    num_inactive_channels: channels.filter((c) => c.get_is_channel_ready() && !c.get_is_usable()).length,
    num_peers: new Set(channels.map((c) => hexOf(c.get_counterparty().get_node_id()))).size,
    block_height: chain.height(),
    block_hash: chain.tipHash(),
    best_header_timestamp: nowSeconds().toString(),
    synced_to_chain: true,
    synced_to_graph: true,
    testnet: false,
    chains: [{ chain: 'bitcoin', network: 'regtest' }],
    uris: [],
    features: {},
    require_htlc_interceptor: false,
    store_final_htlc_resolutions: false,
    wallet_synced: true,
  };
}
