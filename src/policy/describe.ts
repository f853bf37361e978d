/** Words for decisions: a request in a phrase, times and durations as people read them. */
import type { Intent } from '../core/intent.ts';
import { formatAmount } from './amount.ts';

/** ISO time without a zero millisecond part: `2026-01-01T13:00:00Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const UNITS: [number, string][] = [
  [7 * 24 * 3600 * 1000, 'week'],
  [24 * 3600 * 1000, 'day'],
  [3600 * 1000, 'hour'],
  [60 * 1000, 'minute'],
  [1000, 'second'],
];

/** 86400000 → `24 hours`, 604800000 → `7 days`, 90000 → `90 seconds`. Whole units only. */
export function describeMs(ms: number): string {
  for (const [size, name] of UNITS) {
    if (ms % size === 0 && ms / size >= 1) {
      // Prefer hours up to 48 h and days up to 13 d: "24 hours", "2 days" reads oddly as "1 day".
      if (name === 'week' && ms / size < 2) continue;
      if (name === 'day' && ms / size < 3 && ms % (3600 * 1000) === 0) continue;
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

function listDestinations(destinations: readonly string[]): string {
  if (destinations.length === 0) return '';
  if (destinations.length <= 2) return ` to ${destinations.join(' and ')}`;
  return ` to ${destinations.slice(0, 2).join(', ')} and ${destinations.length - 2} more`;
}

/** The request in a phrase: "sending 5,000 sat on Bitcoin to bc1q…", "signing a kind-1 Nostr event". */
export function describeIntent(intent: Intent): string {
  const amount = formatAmount(intent.asset, intent.amount);
  const to = listDestinations(intent.destinations);
  switch (intent.protocol) {
    case 'nostr':
      return typeof intent.facets.kind === 'number'
        ? `signing a kind-${intent.facets.kind} Nostr event`
        : 'signing a Nostr event';
    case 'bitcoin':
      return `sending ${amount} on Bitcoin${to}`;
    case 'lightning':
      return `paying ${amount} over Lightning${to}`;
    case 'evm': {
      const chain = typeof intent.facets.chain_id === 'number' ? ` on chain ${intent.facets.chain_id}` : '';
      if (intent.action === 'call') {
        const fn = intent.facets.function ?? 'a function';
        const contract = intent.facets.contract ?? intent.destinations[0] ?? 'a contract';
        const value = intent.amount > 0n ? ` with ${amount}` : '';
        return `calling ${fn} on ${contract}${chain}${value}`;
      }
      return `sending ${amount}${chain}${to}`;
    }
  }
  return `${intent.protocol} ${intent.action} of ${amount}${to}`;
}
