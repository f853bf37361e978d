import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { NodeLDKNet } from 'lightningdevkit-node-net';

/**
 * One real LDK 0.1.0 Lightning node (WASM), in this process, for the Lightning tests: its channel
 * manager, chain monitor and peer manager over real TCP on 127.0.0.1 (BOLT 8), nothing persisted
 * (a test's node lives as long as its file). The chain it follows and the coins that fund its
 * channels come from test/helpers/ldk-node.ts; this file is what one node does with its events.
 *
 * What a test needs that LDK leaves to its user is decided here:
 * - every payment it receives is claimed at once, unless `holdIncoming` is set: then it waits,
 *   accepted but unsettled (a stuck payment, as seen by its payer), until `release` or `failBack`;
 * - it forwards to private channels (a node in the middle of A–B–C routes to C's unannounced one);
 * - fees are flat (1 sat/vB for its own transactions) so that no estimator is needed.
 */

/** Why a payment LDK refused to start has failed, in the words of its events. */
const REFUSAL_REASON: Partial<Record<ldk.RetryableSendFailure, ldk.PaymentFailureReason>> = {
  [ldk.RetryableSendFailure.LDKRetryableSendFailure_RouteNotFound]:
    ldk.PaymentFailureReason.LDKPaymentFailureReason_RouteNotFound,
  [ldk.RetryableSendFailure.LDKRetryableSendFailure_PaymentExpired]:
    ldk.PaymentFailureReason.LDKPaymentFailureReason_PaymentExpired,
};

/** lnd's default final CLTV delta of a keysend (routerrpc), above LDK's minimum. */
const KEYSEND_FINAL_CLTV_DELTA = 40;

let wasmReady: Promise<void> | null = null;

/** LDK's WASM is loaded once per process (each test file is its own process). */
export function loadLdk(): Promise<void> {
  wasmReady ??= ldk.initializeWasmFromBinary(
    readFileSync(fileURLToPath(import.meta.resolve('lightningdevkit/liblightningjs.wasm'))),
  );
  return wasmReady;
}

export const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
/**
 * Hex to bytes LDK can read: a Uint8Array of its own. A small Buffer is a view into Node's shared
 * pool, and the bindings copy from its ArrayBuffer as if it started at 0 (they read other bytes).
 */
export const bytesOf = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

/** What became of a payment this node sent, from LDK's events. */
export type SentOutcome =
  | { state: 'succeeded'; paymentId: string; paymentHash: string; preimage: string; feeMsat: bigint }
  | { state: 'failed'; paymentId: string; paymentHash: string; reason: ldk.PaymentFailureReason | null };

/** An incoming payment held (not yet claimed) while `holdIncoming` is set. */
interface Held {
  preimage: Uint8Array;
  amountMsat: bigint;
}

export interface Funding {
  /** A signed transaction paying `amountSat` to `script` (the channel's 2-of-2 output). */
  fund(script: Uint8Array, amountSat: bigint): Uint8Array;
}

export interface PeerOptions {
  name: string;
  port: number;
  tip: { hash: string; height: number };
  broadcast(raw: Uint8Array): void;
  funding: Funding;
}

export type LdkPeer = ReturnType<typeof createLdkPeer>;

export function createLdkPeer(options: PeerOptions) {
  const { name } = options;
  const problems: string[] = [];
  const fees = ldk.FeeEstimator.new_impl({ get_est_sat_per_1000_weight: () => 1000 });
  const broadcaster = ldk.BroadcasterInterface.new_impl({
    broadcast_transactions(txs: Uint8Array[]) {
      for (const raw of txs) options.broadcast(raw);
    },
  });
  const logger = ldk.Logger.new_impl({
    log(record: ldk.Record) {
      if (record.get_level() === ldk.Level.LDKLevel_Error) problems.push(record.get_args());
    },
  });
  // Nothing is persisted: a monitor update is complete as soon as it is made.
  const completed = ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
  const persister = ldk.Persist.new_impl({
    persist_new_channel: () => completed,
    update_persisted_channel: () => completed,
    archive_persisted_channel() {},
  });
  const chainMonitor = ldk.ChainMonitor.constructor_new(
    ldk.Option_FilterZ.constructor_none(),
    broadcaster,
    logger,
    fees,
    persister,
  );
  const now = Date.now();
  const keys = ldk.KeysManager.constructor_new(
    new Uint8Array(randomBytes(32)),
    BigInt(Math.floor(now / 1000)),
    (now % 1000) * 1_000_000,
  );
  const graph = ldk.NetworkGraph.constructor_new(ldk.Network.LDKNetwork_Regtest, logger);
  const scorer = ldk.ProbabilisticScorer.constructor_new(
    ldk.ProbabilisticScoringDecayParameters.constructor_default(),
    graph,
    logger,
  );
  const router = ldk.DefaultRouter.constructor_new(
    graph,
    logger,
    keys.as_EntropySource(),
    ldk.MultiThreadedLockableScore.constructor_new(scorer.as_Score()).as_LockableScore(),
    ldk.ProbabilisticScoringFeeParameters.constructor_default(),
  );
  const config = ldk.UserConfig.constructor_default();
  config.set_accept_forwards_to_priv_channels(true);
  const best = ldk.BestBlock.constructor_new(bytesOf(options.tip.hash), options.tip.height);
  const cm = ldk.ChannelManager.constructor_new(
    fees,
    chainMonitor.as_Watch(),
    broadcaster,
    router.as_Router(),
    ldk.DefaultMessageRouter.constructor_new(graph, keys.as_EntropySource()).as_MessageRouter(),
    logger,
    keys.as_EntropySource(),
    keys.as_NodeSigner(),
    keys.as_SignerProvider(),
    config,
    ldk.ChainParameters.constructor_new(ldk.Network.LDKNetwork_Regtest, best),
    Math.floor(now / 1000),
  );
  const ignore = ldk.IgnoringMessageHandler.constructor_new();
  const pm = ldk.PeerManager.constructor_new(
    cm.as_ChannelMessageHandler(),
    ignore.as_RoutingMessageHandler(),
    ignore.as_OnionMessageHandler(),
    ignore.as_CustomMessageHandler(),
    Math.floor(now / 1000),
    keys.as_EntropySource().get_secure_random_bytes(),
    logger,
    keys.as_NodeSigner(),
  );
  const net = new NodeLDKNet(pm);
  const id = cm.get_our_node_id();

  const sent = new Map<string, SentOutcome>();
  const sentListeners = new Set<(outcome: SentOutcome) => void>();
  const held = new Map<string, Held>();
  /** Payment hash → msat claimed, for the payee's side of a test. */
  const claimed = new Map<string, bigint>();
  /** Payment hash → when it was claimed (seconds since 1970). */
  const claimedAt = new Map<string, number>();
  let forwardedFeesMsat = 0n;
  let fundingsPending = 0;

  const settle = (outcome: SentOutcome) => {
    sent.set(outcome.paymentId, outcome);
    for (const listener of sentListeners) listener(outcome);
  };

  function onEvent(event: ldk.Event): void {
    if (event instanceof ldk.Event_FundingGenerationReady) {
      const raw = options.funding.fund(event.output_script, event.channel_value_satoshis);
      const done = cm.funding_transaction_generated(
        event.temporary_channel_id,
        event.counterparty_node_id,
        raw,
      );
      if (!done.is_ok()) problems.push(`${name}: funding_transaction_generated refused`);
      fundingsPending--;
    } else if (event instanceof ldk.Event_PaymentClaimable) {
      const purpose = event.purpose;
      // An invoice of ours (LDK knows its preimage), or a keysend (the payer sent the preimage).
      const preimage =
        purpose instanceof ldk.PaymentPurpose_Bolt11InvoicePayment &&
        purpose.payment_preimage instanceof ldk.Option_ThirtyTwoBytesZ_Some
          ? purpose.payment_preimage.some
          : purpose instanceof ldk.PaymentPurpose_SpontaneousPayment
            ? purpose.spontaneous_payment
            : null;
      if (preimage === null) cm.fail_htlc_backwards(event.payment_hash);
      else if (peer.holdIncoming)
        held.set(hexOf(event.payment_hash), { preimage, amountMsat: event.amount_msat });
      else cm.claim_funds(preimage);
    } else if (event instanceof ldk.Event_PaymentClaimed) {
      claimed.set(hexOf(event.payment_hash), event.amount_msat);
      claimedAt.set(hexOf(event.payment_hash), Math.floor(Date.now() / 1000));
    } else if (event instanceof ldk.Event_PendingHTLCsForwardable) {
      setTimeout(() => {
        cm.process_pending_htlc_forwards();
        net.process_events();
      }, 10);
    } else if (event instanceof ldk.Event_PaymentForwarded) {
      const fee = event.total_fee_earned_msat;
      if (fee instanceof ldk.Option_u64Z_Some) forwardedFeesMsat += fee.some;
    } else if (event instanceof ldk.Event_PaymentSent) {
      if (!(event.payment_id instanceof ldk.Option_ThirtyTwoBytesZ_Some)) return;
      settle({
        state: 'succeeded',
        paymentId: hexOf(event.payment_id.some),
        paymentHash: hexOf(event.payment_hash),
        preimage: hexOf(event.payment_preimage),
        feeMsat: event.fee_paid_msat instanceof ldk.Option_u64Z_Some ? event.fee_paid_msat.some : 0n,
      });
    } else if (event instanceof ldk.Event_PaymentFailed) {
      const hash = event.payment_hash;
      settle({
        state: 'failed',
        paymentId: hexOf(event.payment_id),
        paymentHash: hash instanceof ldk.Option_ThirtyTwoBytesZ_Some ? hexOf(hash.some) : '',
        reason: event.reason instanceof ldk.Option_PaymentFailureReasonZ_Some ? event.reason.some : null,
      });
    }
  }
  const handler = ldk.EventHandler.new_impl({
    handle_event(event: ldk.Event) {
      onEvent(event);
      return ldk.Result_NoneReplayEventZ.constructor_ok();
    },
  });

  const peer = {
    name,
    id,
    idHex: hexOf(id),
    port: options.port,
    cm,
    problems,
    /** Hold incoming payments (accepted, unsettled) instead of claiming them. */
    holdIncoming: false,
    claimed,
    claimedAt,
    get forwardedFeesMsat() {
      return forwardedFeesMsat;
    },
    get fundingsPending() {
      return fundingsPending;
    },

    /** One round of LDK's work: its events, queued messages, and now and then its timers. */
    step(tick: boolean): void {
      cm.as_EventsProvider().process_pending_events(handler);
      chainMonitor.as_EventsProvider().process_pending_events(handler);
      net.process_events();
      if (tick) {
        cm.timer_tick_occurred();
        pm.timer_tick_occurred();
      }
    },
    blockConnected(block: Uint8Array, height: number): void {
      cm.as_Listen().block_connected(block, height);
      chainMonitor.as_Listen().block_connected(block, height);
    },
    listen: () => net.bind_listener('127.0.0.1', options.port),
    connect: (other: { id: Uint8Array; port: number }) => net.connect_peer('127.0.0.1', other.port, other.id),
    /** Connected to `other`, the BOLT 8 handshake done. */
    hasPeer: (other: { idHex: string }) =>
      pm.list_peers().some((p) => hexOf(p.get_counterparty_node_id()) === other.idHex),

    /** Opens a channel of `sat` to `other`; funded (by the funding source) when LDK asks for it. */
    openChannel(other: { id: Uint8Array }, sat: bigint): void {
      const opened = cm.create_channel(other.id, sat, 0n, BigInt(cm.list_channels().length + 1), null, null);
      if (!opened.is_ok()) throw new Error(`${name}: create_channel refused`);
      fundingsPending++;
      net.process_events();
    },
    usableChannels: () => cm.list_usable_channels(),

    /** A BOLT 11 invoice of this node (LDK adds route hints for its private channels). */
    invoice(amountMsat: bigint | null, description: string, expirySeconds: number): ldk.Bolt11Invoice {
      const text = ldk.Description.constructor_new(description);
      if (!(text instanceof ldk.Result_DescriptionCreationErrorZ_OK)) throw new Error('description refused');
      const made = cm.create_bolt11_invoice(
        amountMsat === null
          ? ldk.Option_u64Z.constructor_none()
          : ldk.Option_u64Z.constructor_some(amountMsat),
        ldk.Bolt11InvoiceDescription.constructor_direct(text.res),
        ldk.Option_u32Z.constructor_some(expirySeconds),
        ldk.Option_u16Z.constructor_none(),
        ldk.Option_ThirtyTwoBytesZ.constructor_none(),
      );
      if (!(made instanceof ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_OK))
        throw new Error('invoice refused');
      return made.res;
    },

    /**
     * Starts paying `invoice` (at most `maxFeeMsat` in routing fees, LDK's own limit) and returns
     * its payment id; its end comes as an outcome (`outcomeOf`, `onSent`). When LDK refuses to
     * start (no route at all, expired), the payment has failed already, with that reason. Null:
     * the invoice cannot be paid by LDK at all.
     */
    send(invoice: ldk.Bolt11Invoice, maxFeeMsat: bigint, amountMsat: bigint | null = null): string | null {
      const params =
        amountMsat === null
          ? ldk.UtilMethods.constructor_payment_parameters_from_invoice(invoice)
          : ldk.UtilMethods.constructor_payment_parameters_from_variable_amount_invoice(invoice, amountMsat);
      if (!(params instanceof ldk.Result_C3Tuple_ThirtyTwoBytesRecipientOnionFieldsRouteParametersZNoneZ_OK))
        return null;
      const route = params.res.get_c();
      route.set_max_total_routing_fee_msat(ldk.Option_u64Z.constructor_some(maxFeeMsat));
      const id = new Uint8Array(randomBytes(32));
      const paymentId = hexOf(id);
      const started = cm.send_payment(
        params.res.get_a(),
        params.res.get_b(),
        id,
        route,
        ldk.Retry.constructor_attempts(3),
      );
      if (started instanceof ldk.Result_NoneRetryableSendFailureZ_Err)
        settle({
          state: 'failed',
          paymentId,
          paymentHash: hexOf(params.res.get_a()),
          reason:
            REFUSAL_REASON[started.err] ?? ldk.PaymentFailureReason.LDKPaymentFailureReason_UnexpectedError,
        });
      net.process_events();
      return paymentId;
    },
    /**
     * Starts a keysend (spontaneous payment) of `amountMsat` to `destination` with the payer's
     * `preimage`, over a route LDK finds from its own channels (its graph holds no gossip: one hop
     * only). Returns the payment id; its end comes as an outcome, as for `send`.
     */
    keysend(destination: Uint8Array, preimage: Uint8Array, amountMsat: bigint, maxFeeMsat: bigint): string {
      const route = ldk.RouteParameters.constructor_from_payment_params_and_value(
        ldk.PaymentParameters.constructor_for_keysend(destination, KEYSEND_FINAL_CLTV_DELTA, false),
        amountMsat,
      );
      route.set_max_total_routing_fee_msat(ldk.Option_u64Z.constructor_some(maxFeeMsat));
      const id = new Uint8Array(randomBytes(32));
      const paymentId = hexOf(id);
      const started = cm.send_spontaneous_payment(
        ldk.Option_ThirtyTwoBytesZ.constructor_some(preimage),
        ldk.RecipientOnionFields.constructor_spontaneous_empty(),
        id,
        route,
        ldk.Retry.constructor_attempts(3),
      );
      if (started instanceof ldk.Result_ThirtyTwoBytesRetryableSendFailureZ_Err)
        settle({
          state: 'failed',
          paymentId,
          paymentHash: hexOf(sha256(preimage)),
          reason:
            REFUSAL_REASON[started.err] ?? ldk.PaymentFailureReason.LDKPaymentFailureReason_UnexpectedError,
        });
      net.process_events();
      return paymentId;
    },
    /** Stops retrying; LDK ends the payment as failed once no part of it is in flight. */
    abandon(paymentId: string): void {
      cm.abandon_payment(bytesOf(paymentId));
    },
    outcomeOf: (paymentId: string) => sent.get(paymentId) ?? null,
    onSent(listener: (outcome: SentOutcome) => void): () => void {
      sentListeners.add(listener);
      return () => sentListeners.delete(listener);
    },
    /** Claims a held incoming payment (the payer's payment then succeeds). */
    release(paymentHash: string): boolean {
      const h = held.get(paymentHash);
      if (!h) return false;
      held.delete(paymentHash);
      cm.claim_funds(h.preimage);
      net.process_events();
      return true;
    },
    /** Fails a held incoming payment back to its payer. */
    failBack(paymentHash: string): boolean {
      if (!held.delete(paymentHash)) return false;
      cm.fail_htlc_backwards(bytesOf(paymentHash));
      net.process_events();
      return true;
    },
    isHeld: (paymentHash: string) => held.has(paymentHash),
    stop(): void {
      net.stop();
    },
  };
  return peer;
}
