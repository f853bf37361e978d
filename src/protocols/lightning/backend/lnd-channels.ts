/**
 * lnd's ListChannels answer (GET /v1/channels: `{channels: lnrpc.Channel[]}`) read as Warden's
 * ChannelState, hostile until checked. lnd writes its amounts as int64 decimal strings in sat
 * (`capacity`, `local_balance`, `remote_balance`), the channel id as a uint64 decimal string and
 * the peer as hex; a field of another type, a balance above the capacity, or a channel listed
 * twice is a malformed answer (BACKEND_REJECTED), never a reading the monitor would act on.
 */
import type { ChannelState } from './backend.ts';
import { amountOf, isRecord } from './lnd-payment.ts';
import { malformed } from './lnd-request.ts';

/** More channels than any node Warden drives: an answer this long is refused, not walked. */
export const MAX_CHANNELS = 10_000;
const UINT64_MAX = 2n ** 64n - 1n;
const NODE_ID = /^0[23][0-9a-f]{64}$/;

function channelOf(raw: unknown, what: string, i: number): ChannelState {
  const at = `channels[${i}]`;
  if (!isRecord(raw)) throw malformed(what, `${at} is not an object`);
  if (typeof raw.chan_id !== 'string' || !/^\d{1,20}$/.test(raw.chan_id) || BigInt(raw.chan_id) > UINT64_MAX)
    throw malformed(what, `${at}.chan_id is not a uint64`);
  if (typeof raw.remote_pubkey !== 'string' || !NODE_ID.test(raw.remote_pubkey))
    throw malformed(what, `${at}.remote_pubkey is not a node id`);
  if (typeof raw.active !== 'boolean') throw malformed(what, `${at}.active is not a boolean`);
  if (typeof raw.private !== 'boolean') throw malformed(what, `${at}.private is not a boolean`);
  const capacity = amountOf(raw.capacity, what, `${at}.capacity`);
  const local = amountOf(raw.local_balance, what, `${at}.local_balance`);
  const remote = amountOf(raw.remote_balance, what, `${at}.remote_balance`);
  // The commitment fee and anchors come out of the capacity: the two balances fit in it, never more.
  if (capacity === 0n || local + remote > capacity)
    throw malformed(what, `${at}: its balances do not fit in its capacity`);
  return {
    channelId: raw.chan_id,
    peerId: raw.remote_pubkey,
    active: raw.active,
    private: raw.private,
    capacityMsat: capacity * 1000n,
    localMsat: local * 1000n,
    remoteMsat: remote * 1000n,
  };
}

export function channelsOf(answer: Record<string, unknown>, what: string): ChannelState[] {
  const list = answer.channels;
  if (!Array.isArray(list)) throw malformed(what, 'channels is not a list');
  if (list.length > MAX_CHANNELS) throw malformed(what, `more than ${MAX_CHANNELS} channels`);
  const channels = list.map((c, i) => channelOf(c, what, i));
  if (new Set(channels.map((c) => c.channelId)).size !== channels.length)
    throw malformed(what, 'a channel is listed twice');
  return channels;
}
