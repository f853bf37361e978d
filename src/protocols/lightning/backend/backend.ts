/**
 * What Warden asks of a Lightning backend (lnd over REST now; Core Lightning and an NWC wallet
 * later), whichever it is. Every answer has been checked before it takes one of these shapes:
 * amounts are bigint msat, hashes and preimages lower-case hex, and a payment is `succeeded` only
 * with a preimage whose SHA-256 is the invoice's payment hash: nothing else proves it was paid.
 */
import type { Bolt11Invoice } from '../bolt11.ts';

/** Why a payment failed, in the backend-neutral words of Warden (lnd's FAILURE_REASON_*). */
export type PaymentFailure =
  | 'no_route'
  | 'timeout'
  | 'incorrect_payment_details'
  | 'insufficient_balance'
  | 'canceled'
  | 'error';

export type PaymentState =
  | { status: 'succeeded'; paymentHash: string; preimage: string; amountMsat: bigint; feeMsat: bigint }
  /** Final: nothing of it was paid; the backend will not try again on its own. */
  | { status: 'failed'; paymentHash: string; reason: PaymentFailure }
  /** Not final yet (an HTLC is still out): keep counting it, and follow it with `track`. */
  | { status: 'in_flight'; paymentHash: string };

export interface PayOptions {
  /** The most the routing may cost, in sat (lnd's fee_limit_sat): Warden's budget counts it. */
  feeLimitSat: bigint;
  /** How long the backend may try new routes (an HTLC already out may outlive it). */
  timeoutSeconds: number;
  /** Only for an invoice without an amount; must not be given for one with an amount. */
  amountMsat?: bigint;
  /** How long `pay` follows the payment before answering `in_flight`; default timeout + 30 s. */
  waitMs?: number;
}

/** A payment to a node without an invoice (keysend): Warden picks the preimage, so the hash is known first. */
export interface KeysendOptions {
  /** The payee's node id (33-byte compressed key, lower-case hex). */
  destination: string;
  amountMsat: bigint;
  /** 32 bytes from the CSPRNG; its SHA-256 is the payment hash Warden claims before sending. */
  preimage: Uint8Array;
  feeLimitSat: bigint;
  timeoutSeconds: number;
  waitMs?: number;
}

/** One channel as the monitor sees it (risk: exhaustion, a counterparty offline). */
export interface ChannelState {
  /** The backend's id of the channel (lnd's chan_id, Core Lightning's short_channel_id). */
  channelId: string;
  /** The counterparty's node id, lower-case hex. */
  peerId: string;
  /** The peer is connected and the channel usable now. */
  active: boolean;
  /** Not announced to the network (its route hints go into our invoices). */
  private: boolean;
  capacityMsat: bigint;
  localMsat: bigint;
  remoteMsat: bigint;
}

export interface BackendInfo {
  nodeId: string;
  blockHeight: number;
  syncedToChain: boolean;
  /** As the backend names it (lnd: `mainnet`, `testnet`, `signet`, `regtest`, `simnet`); at most 20 characters. */
  network: string;
}

export interface ChannelBalance {
  /** What this node can spend in its channels (lnd's local_balance). */
  localMsat: bigint;
  remoteMsat: bigint;
  /** In HTLCs not yet settled, ours. */
  unsettledLocalMsat: bigint;
  pendingOpenLocalMsat: bigint;
}

export interface NewInvoice {
  amountMsat: bigint;
  description: string;
  expirySeconds: number;
}

export interface MadeInvoice {
  bolt11: string;
  paymentHash: string;
  invoice: Bolt11Invoice;
}

export type InvoiceState =
  | { state: 'open' | 'accepted' | 'canceled'; paymentHash: string; amountMsat: bigint }
  | {
      state: 'settled';
      paymentHash: string;
      amountMsat: bigint;
      paidMsat: bigint;
      preimage: string;
      /** When it was settled, seconds since 1970, where the backend says. */
      settledAt?: number;
    };

export type LightningBackendKind = 'lnd' | 'cln' | 'nwc';

export interface LightningBackend {
  readonly kind: LightningBackendKind;
  info(): Promise<BackendInfo>;
  balance(): Promise<ChannelBalance>;
  /** Decoded by Warden (bolt11.ts); the backend's decoding must agree, or it is refused. */
  decode(bolt11: string): Promise<Bolt11Invoice>;
  pay(bolt11: string, options: PayOptions): Promise<PaymentState>;
  /**
   * Follows a payment by its hash for at most `waitMs`; null when the backend never had it.
   * `feeLimitMsat` is the most it was allowed in fees: the fee of a success whose answer names
   * none (NIP-47 makes `fees_paid` optional), so a budget counts at least what may have been spent.
   */
  track(paymentHash: string, waitMs: number, feeLimitMsat: bigint): Promise<PaymentState | null>;
  createInvoice(request: NewInvoice): Promise<MadeInvoice>;
  /** Null when the backend has no invoice of this hash. */
  lookupInvoice(paymentHash: string): Promise<InvoiceState | null>;
  /** A spontaneous payment; the answer's hash is SHA-256 of `options.preimage`. */
  keysend(options: KeysendOptions): Promise<PaymentState>;
  /** Every open channel (pending and closing ones are not spendable and are left out). */
  channels(): Promise<ChannelState[]>;
}
