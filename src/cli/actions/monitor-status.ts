/**
 * The monitors' part of `warden status` (Lightning's channels): a fresh reading of each module
 * that keeps one, read through the gateway's service like the HTTP route, as the local operator.
 */
import type { Canonical } from '../../core/canonical.ts';
import { isWardenError } from '../../core/errors.ts';
import type { Gateway, Warden } from '../../gateway/index.ts';
import { localOperator } from './local-operator.ts';

interface ChannelLine {
  channelId: string;
  peerId: string;
  active: boolean;
  localPercent: number;
  balance: string;
  capacityMsat: string;
}

interface ReadingView {
  node: string;
  problem: string | null;
  at: string;
  summary?: { channels: number; depleted: number; full: number; peersOffline: number };
  channels?: ChannelLine[];
}

/** The lines of one module's reading: the node, then each channel that needs an eye on it. */
export function monitorLines(module: string, reading: ReadingView): string[] {
  if (reading.node !== 'online')
    return [
      `${module}:   node ${reading.node}${reading.problem ? ` (${reading.problem})` : ''} at ${reading.at}`,
    ];
  const s = reading.summary!;
  const lines = [
    `${module}:   node online, ${s.channels} channels (${s.depleted} depleted, ${s.full} full, ${s.peersOffline} peers offline) at ${reading.at}`,
  ];
  for (const c of reading.channels ?? [])
    if (c.balance !== 'ok' || !c.active)
      lines.push(
        `  channel ${c.channelId} to ${c.peerId.slice(0, 16)}…: ${c.balance === 'ok' ? '' : `${c.balance}, `}local ${c.localPercent} % of ${BigInt(c.capacityMsat) / 1000n} sat${c.active ? '' : ', peer offline'}`,
      );
  return lines;
}

/** Every monitor's fresh reading (lines, and the readings for --json); a failed read is a line too. */
export async function monitorStatus(gateway: Gateway, warden: Warden) {
  const principal = localOperator(gateway, warden);
  const lines: string[] = [];
  const readings: Record<string, Canonical> = {};
  for (const module of gateway.monitors.names) {
    try {
      const reading = await gateway.reads.monitor(principal, module, true);
      readings[module] = reading;
      lines.push(...monitorLines(module, reading as unknown as ReadingView));
    } catch (err) {
      if (!isWardenError(err)) throw err;
      lines.push(`${module}:   not read (${err.code}: ${err.message})`);
    }
  }
  return { lines, readings };
}
