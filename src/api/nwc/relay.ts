/**
 * One relay, as the NWC door uses it (NIP-01): a WebSocket from net/ (Tor or direct, on the
 * identity's circuits), one subscription whose filter the door replaces as connections come and go,
 * and publishing with the relay's OK awaited. A dropped socket is reopened with a growing pause,
 * and the subscription sent again; messages from the relay are hostile (parsed defensively, bounded
 * by net/'s message cap) and only well-formed events reach the door, which verifies them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Event, Filter } from 'nostr-tools';
import type { NetWebSocket } from '../../gateway/index.ts';

const SUBSCRIPTION = 'warden-nwc';
const PUBLISH_TIMEOUT_MS = 10_000;
const MAX_PAUSE_MS = 30_000;

export interface RelayOptions {
  url: string;
  /** Opens the socket through net/ (the gateway's relay route), on `identity`'s circuits. */
  open(url: string, identity: string): Promise<NetWebSocket>;
  /** Whose circuits the socket takes (the connections' identity). */
  identity: string;
  onEvent(event: Event): void;
  /** Called each time the socket is (re)opened: the door republishes its info events. */
  onOpen(): void;
  log(message: string, error?: unknown): void;
}

function isEvent(value: unknown): value is Event {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.id === 'string' &&
    typeof e.pubkey === 'string' &&
    typeof e.sig === 'string' &&
    typeof e.content === 'string' &&
    Number.isSafeInteger(e.kind) &&
    Number.isSafeInteger(e.created_at) &&
    Array.isArray(e.tags) &&
    e.tags.every((t) => Array.isArray(t) && t.every((v) => typeof v === 'string'))
  );
}

export class Relay {
  #socket: NetWebSocket | null = null;
  #filter: Filter | null = null;
  #closed = false;
  readonly #waiting = new Map<string, (ok: boolean, message: string) => void>();

  constructor(private readonly o: RelayOptions) {}

  /** Keeps the relay open until `close`; resolves once, after the first attempt. */
  async start(): Promise<void> {
    await this.#open();
    void this.#keepOpen();
  }

  subscribe(filter: Filter): void {
    this.#filter = filter;
    this.#send(['REQ', SUBSCRIPTION, filter]);
  }

  /** Resolves when the relay accepted the event; rejects when it refused or did not answer in time. */
  publish(event: Event): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(event.id);
        reject(new Error(`${this.o.url} did not acknowledge the event in time`));
      }, PUBLISH_TIMEOUT_MS);
      this.#waiting.set(event.id, (ok, message) => {
        clearTimeout(timer);
        this.#waiting.delete(event.id);
        if (ok) resolve();
        else reject(new Error(`${this.o.url} refused the event: ${message.slice(0, 200)}`));
      });
      if (!this.#send(['EVENT', event])) {
        clearTimeout(timer);
        this.#waiting.delete(event.id);
        reject(new Error(`${this.o.url} is not connected`));
      }
    });
  }

  close(): void {
    this.#closed = true;
    this.#socket?.close();
  }

  /** Closes the socket and lets `start`'s loop open a new one (on the identity's circuits now). */
  reconnect(): void {
    this.#socket?.close();
  }

  #send(message: unknown[]): boolean {
    const socket = this.#socket;
    if (!socket?.isOpen) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  async #open(): Promise<boolean> {
    try {
      const socket = await this.o.open(this.o.url, this.o.identity);
      this.#socket = socket;
      socket.onMessage((text) => this.#receive(text));
      const closed = new Promise<void>((resolve) => socket.onClose(resolve));
      socket.onError((err) => this.o.log(`relay ${this.o.url}: socket error`, err));
      this.#closedOnce = closed;
      if (this.#filter) this.#send(['REQ', SUBSCRIPTION, this.#filter]);
      this.o.onOpen();
      return true;
    } catch (err) {
      this.o.log(`relay ${this.o.url}: cannot connect`, err);
      return false;
    }
  }

  #closedOnce: Promise<void> | null = null;

  async #keepOpen(): Promise<void> {
    let pause = 1000;
    while (!this.#closed) {
      if (this.#closedOnce) {
        await this.#closedOnce;
        this.#closedOnce = null;
        this.#socket = null;
        for (const settle of this.#waiting.values()) settle(false, 'the connection closed');
        if (this.#closed) return;
      }
      await sleep(pause);
      if (this.#closed) return;
      pause = (await this.#open()) ? 1000 : Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }

  #receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(message)) return;
    if (message[0] === 'EVENT' && message[1] === SUBSCRIPTION && isEvent(message[2]))
      this.o.onEvent(message[2]);
    else if (message[0] === 'OK' && typeof message[1] === 'string')
      this.#waiting.get(message[1])?.(message[2] === true, String(message[3] ?? ''));
  }
}
