/**
 * A real Nostr relay on loopback for the tests: @nostr-relay/core (NIP-01 subscriptions, OK
 * messages, replaceable events) behind a `ws` server, with an in-memory event store: regular and
 * replaceable events kept (the latest per author and kind for 0, 3 and 10000-19999), ephemeral
 * ones (20000-29999: NIP-47 requests and responses) only passed on. `eventHandlingResultCacheTtl: 0`
 * so that the same event sent twice is handled (and passed on) twice, as a replay would be.
 */
import type { AddressInfo } from 'node:net';
import { type Event, EventRepository, type Filter } from '@nostr-relay/common';
import { NostrRelay } from '@nostr-relay/core';
import { matchFilter } from 'nostr-tools';
import { WebSocketServer } from 'ws';

const replaceable = (kind: number) => kind === 0 || kind === 3 || (kind >= 10_000 && kind < 20_000);
const ephemeral = (kind: number) => kind >= 20_000 && kind < 30_000;

class MemoryRepository extends EventRepository {
  readonly events: Event[] = [];

  isSearchSupported(): boolean {
    return false;
  }

  upsert(event: Event) {
    if (this.events.some((e) => e.id === event.id)) return { isDuplicate: true };
    if (ephemeral(event.kind)) return { isDuplicate: false };
    if (replaceable(event.kind)) {
      const i = this.events.findIndex((e) => e.kind === event.kind && e.pubkey === event.pubkey);
      if (i >= 0) {
        if (this.events[i]!.created_at > event.created_at) return { isDuplicate: true };
        this.events.splice(i, 1);
      }
    }
    this.events.push(event);
    return { isDuplicate: false };
  }

  find(filter: Filter): Event[] {
    const found = this.events
      .filter((e) => matchFilter(filter as never, e as never))
      .sort((a, b) => b.created_at - a.created_at);
    return filter.limit === undefined ? found : found.slice(0, filter.limit);
  }

  async destroy(): Promise<void> {}
}

export interface TestRelay {
  url: string;
  /** Every EVENT message the relay got, in order (requests, responses, notifications, info). */
  received: Event[];
  /** How many WebSocket connections were opened to it so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTestRelay(): Promise<TestRelay> {
  const repository = new MemoryRepository();
  const relay = new NostrRelay(repository, { eventHandlingResultCacheTtl: 0 });
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const received: Event[] = [];
  let connections = 0;
  server.on('connection', (ws) => {
    connections++;
    relay.handleConnection(ws);
    ws.on('message', async (data) => {
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if (Array.isArray(message) && message[0] === 'EVENT') received.push(message[1] as Event);
      await relay.handleMessage(ws, message as never);
    });
    ws.on('close', () => relay.handleDisconnect(ws));
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    get connections() {
      return connections;
    },
    async close() {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await relay.destroy();
    },
  };
}
