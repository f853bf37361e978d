/**
 * What the channel monitor says of one channel and of the node (guideline 003: local balance
 * below 10 % of the capacity is "depleted", above 90 % "full"; a channel whose peer is not
 * connected is "counterparty offline"; a node that does not answer is "offline"), and the facts a
 * payment is judged on. Pure and over bigints: the thresholds are compared as `local × 10 <
 * capacity`, never through a float, so no rounding moves a channel across one.
 */
import type { IntentSignals } from '../../../core/intent.ts';
import type { ChannelState } from '../backend/backend.ts';

export type ChannelBalanceState = 'depleted' | 'full' | 'ok';

/** Below one tenth of the capacity: depleted; above nine tenths: full. Exactly 10 % or 90 % is ok. */
export function balanceState(localMsat: bigint, capacityMsat: bigint): ChannelBalanceState {
  if (localMsat * 10n < capacityMsat) return 'depleted';
  if (localMsat * 10n > capacityMsat * 9n) return 'full';
  return 'ok';
}

export interface ChannelReading extends ChannelState {
  balance: ChannelBalanceState;
}

/**
 * One reading of the node. `online`: it listed its channels; `offline`: it could not be reached
 * (BACKEND_UNREACHABLE); `unknown`: it answered but not with a list Warden accepts (a credential
 * refused, a malformed answer: `problem` says which code). Channels are only those of an online
 * reading: an old list is not shown as if it were current.
 */
export interface NodeReading {
  /** When it was read (ISO 8601). */
  at: string;
  node: 'online' | 'offline' | 'unknown';
  problem: string | null;
  channels: ChannelReading[];
}

export function classify(channels: readonly ChannelState[]): ChannelReading[] {
  return channels.map((c) => ({ ...c, balance: balanceState(c.localMsat, c.capacityMsat) }));
}

/**
 * The local share of `capacity` in whole percent, rounded down: below 10 exactly when `local × 10
 * < capacity`, so risk's `channelLocalRatio < 0.1` (risks.ts) agrees with the classifier. Whole
 * percent is all risk needs, and it tells an approver less about the node's liquidity than the
 * exact balances would.
 */
export function localRatio(localMsat: bigint, capacityMsat: bigint): number {
  if (capacityMsat <= 0n) return 0;
  const percent = (localMsat * 100n) / capacityMsat;
  return Number(percent > 100n ? 100n : percent) / 100;
}

/**
 * The facts a payment is judged on, from a reading: whether the node was unreachable
 * (`nodeOffline`), whether a channel's peer is offline (`counterpartyOffline`), and the local
 * share of the channels it can use now, the active ones (`channelLocalRatio`; 0 with none). A
 * reading of `unknown` tells nothing: no facts.
 */
export function paymentSignals(reading: NodeReading): IntentSignals {
  if (reading.node === 'offline') return { nodeOffline: true };
  if (reading.node !== 'online') return {};
  const usable = reading.channels.filter((c) => c.active);
  const local = usable.reduce((sum, c) => sum + c.localMsat, 0n);
  const capacity = usable.reduce((sum, c) => sum + c.capacityMsat, 0n);
  return {
    nodeOffline: false,
    counterpartyOffline: reading.channels.some((c) => !c.active),
    channelLocalRatio: localRatio(local, capacity),
  };
}
