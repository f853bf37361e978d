/**
 * The channel monitor of one Lightning backend (one node, shared by every identity that pays
 * through it): the last reading of its channels with its time, and the alerts a new reading
 * raises. It holds no credential: whoever refreshes it lends one for that one read
 * (`refresh(read)`), and the reading keeps only node-level facts (channels, balances, peers),
 * never which identity's credential read it, nor anything of an identity's own (invoices,
 * payments): it is the same whichever identity reads it.
 */
import { isWardenError } from '../../../core/errors.ts';
import type { ChannelState } from '../backend/backend.ts';
import { type ChannelReading, classify, type NodeReading } from './classify.ts';

export type MonitorAlertKind = 'channel-depleted' | 'counterparty-offline' | 'node-offline';

/** A change for the worse between two readings, for the operator (the gateway logs it). */
export interface MonitorAlert {
  kind: MonitorAlertKind;
  channelId: string | null;
  peerId: string | null;
  message: string;
}

/**
 * The alerts `next` raises after `previous` (null: the first reading, whose bad states are all
 * new): a channel that turned depleted, a peer that went offline, the node unreachable. A state
 * that stays bad alerts once, when it turns so.
 */
export function alertsOf(previous: NodeReading | null, next: NodeReading): MonitorAlert[] {
  if (next.node === 'offline')
    return previous?.node === 'offline'
      ? []
      : [
          {
            kind: 'node-offline',
            channelId: null,
            peerId: null,
            message: 'the Lightning node is unreachable',
          },
        ];
  if (next.node !== 'online') return [];
  const before = new Map<string, ChannelReading>(
    previous?.node === 'online' ? previous.channels.map((c) => [c.channelId, c]) : [],
  );
  const alerts: MonitorAlert[] = [];
  for (const c of next.channels) {
    const was = before.get(c.channelId);
    if (c.balance === 'depleted' && was?.balance !== 'depleted')
      alerts.push({
        kind: 'channel-depleted',
        channelId: c.channelId,
        peerId: c.peerId,
        message: `channel ${c.channelId} is depleted: local balance below 10 % of its capacity`,
      });
    if (!c.active && (was === undefined || was.active))
      alerts.push({
        kind: 'counterparty-offline',
        channelId: c.channelId,
        peerId: c.peerId,
        message: `the peer of channel ${c.channelId} is offline`,
      });
  }
  return alerts;
}

export class ChannelMonitor {
  #last: NodeReading | null = null;
  #refreshing: Promise<NodeReading> | null = null;
  #queued: Promise<NodeReading> | null = null;
  #listeners = new Set<(alert: MonitorAlert) => void>();

  /** The last reading, or null before the first. */
  get last(): NodeReading | null {
    return this.#last;
  }

  /** Whether the last reading is older than `maxAgeMs` at `now` (or there is none). */
  stale(now: Date, maxAgeMs: number): boolean {
    return this.#last === null || now.getTime() - Date.parse(this.#last.at) > maxAgeMs;
  }

  /** Hears every alert of every later reading; returns how to stop. */
  onAlert(listener: (alert: MonitorAlert) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Reads the channels with `read` (which lends its credential for that call) and keeps the
   * reading. At most one read runs and one waits: a refresh asked for while one runs gets the
   * next read, which starts after it (the one running may have begun before what the caller
   * wants to see, a payment's end), shared by everyone who asked meanwhile, so a burst of
   * payments costs two reads. A Warden error is a reading too (offline, unknown); anything else
   * is a bug and is thrown.
   */
  refresh(read: () => Promise<ChannelState[]>, now: () => Date): Promise<NodeReading> {
    if (this.#refreshing === null) {
      this.#refreshing = this.#read(read, now).finally(() => {
        this.#refreshing = null;
      });
      return this.#refreshing;
    }
    this.#queued ??= this.#refreshing
      .catch(() => null)
      .then(() => {
        this.#queued = null;
        return this.refresh(read, now);
      });
    return this.#queued;
  }

  async #read(read: () => Promise<ChannelState[]>, now: () => Date): Promise<NodeReading> {
    let reading: NodeReading;
    try {
      const channels = classify(await read());
      reading = { at: now().toISOString(), node: 'online', problem: null, channels };
    } catch (err) {
      if (!isWardenError(err)) throw err;
      const node = err.code === 'BACKEND_UNREACHABLE' ? 'offline' : 'unknown';
      reading = { at: now().toISOString(), node, problem: err.code, channels: [] };
    }
    const alerts = alertsOf(this.#last, reading);
    this.#last = reading;
    for (const alert of alerts) for (const listener of this.#listeners) listener(alert);
    return reading;
  }
}

const monitors = new WeakMap<object, ChannelMonitor>();

/** The monitor of a module backend (one per configured node), made at its first use. */
export function monitorOf(backend: object): ChannelMonitor {
  let monitor = monitors.get(backend);
  if (!monitor) {
    monitor = new ChannelMonitor();
    monitors.set(backend, monitor);
  }
  return monitor;
}
