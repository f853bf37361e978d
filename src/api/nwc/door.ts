/**
 * The Nostr Wallet Connect door (NIP-47): Warden as the wallet service of every connection made by
 * `warden nwc connect`. For each request event (kind 23194) it:
 *
 * 1. verifies the event (id and signature), finds the connection by the `p` tag (the connection's
 *    own service key) and checks the author is its client key: a revoked, expired or tampered
 *    connection, or another author, is answered UNAUTHORIZED;
 * 2. drops an event past its `expiration` tag (NIP-47: ignored) or too old for the replay memory,
 *    and one already taken (a replay is answered once);
 * 3. decrypts it (NIP-44 v2; NIP-04 only for a connection that opted in) with the connection's key,
 *    checks the method is one the connection was given, and runs it through the one path
 *    (gateway.requests.submit) as the connection's principal: its identity, the capabilities of its
 *    methods, its own budget inside the identity's;
 * 4. answers (kind 23195, `p` the client, `e` the request) with the result or a NIP-47 error, and
 *    after a payment sends `payment_sent` (kind 23197; 23196 for NIP-04).
 *
 * A payment held for approval keeps the client waiting up to the connection's `hold_wait_seconds`,
 * then answers that it waits for an operator; when approved and paid, `payment_sent` follows.
 */
import { type Event, type Filter, verifyEvent } from 'nostr-tools';
import { isWardenError } from '../../core/errors.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import {
  NWC_EVENT_MEMORY_MS,
  type NwcConnection,
  type NwcEncryption,
} from '../../gateway/nwc-connections.ts';
import { Nip47Error, nip47CodeOf } from './errors.ts';
import { InvoicePolls } from './invoice-polls.ts';
import { METHODS, type OperationMethod, type Params } from './methods.ts';
import { describe, notificationsOf, paymentNotification, principalOf } from './principal.ts';
import { Relay } from './relay.ts';

export const INFO_KIND = 13194;
export const REQUEST_KIND = 23194;
export const RESPONSE_KIND = 23195;
export const NOTIFICATION_KIND = { nip44_v2: 23197, nip04: 23196 } as const;

/** An event older than this is refused: the replay memory must outlast it. */
const MAX_EVENT_AGE_S = Math.floor(NWC_EVENT_MEMORY_MS / 2000);
const MAX_EVENT_FUTURE_S = 300;
const REFRESH_MS = 2000;
/** UNAUTHORIZED answers per connection per minute: a stranger cannot make the door work for free. */
const MAX_REFUSALS_PER_MINUTE = 10;

export interface NwcDoorOptions {
  relays: readonly string[];
  log(message: string, error?: unknown): void;
}

interface Answer {
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

function tag(event: Event, name: string): string | undefined {
  return event.tags.find((t) => t[0] === name)?.[1];
}

const PERIODS = { day: 'daily', week: 'weekly', month: 'monthly' } as const;

export class NwcDoor {
  /** One relay socket per identity and relay: an identity's traffic on its own circuits. */
  readonly #relays = new Map<string, Relay>();
  readonly #announced = new Set<string>();
  /** Requests of a connection still pending (held, unknown): `payment_sent` follows when done. */
  readonly #following = new Map<
    string,
    { connection: NwcConnection; scheme: NwcEncryption; method: string }
  >();
  /** Invoices made through a connection, followed until paid or expired: `payment_received`. */
  readonly #invoices = new InvoicePolls<{ connection: NwcConnection; scheme: NwcEncryption }>();
  /** The `#p` list each relay socket is subscribed with: a new REQ only when it changes. */
  readonly #subscribed = new Map<Relay, string>();
  readonly #refusals = new Map<string, { minute: number; count: number }>();
  #timer: NodeJS.Timeout | null = null;
  #refreshing = false;
  #stopRotations: () => void = () => {};

  constructor(
    private readonly gateway: Gateway,
    private readonly o: NwcDoorOptions,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), REFRESH_MS);
    // A socket stays on the circuit it was opened on: an identity's rotation reopens its relays.
    this.#stopRotations = this.gateway.circuits.onRotated((identity) => {
      for (const [key, relay] of this.#relays) if (key.startsWith(`${identity}\u0000`)) relay.reconnect();
    });
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#stopRotations();
    for (const relay of this.#relays.values()) relay.close();
  }

  /** Subscriptions and info events for the connections usable now; pending payments followed. */
  async refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const connections = await this.gateway.nwc.listening();
      const byIdentity = new Map<string, NwcConnection[]>();
      for (const c of connections) byIdentity.set(c.identity, [...(byIdentity.get(c.identity) ?? []), c]);
      for (const [identity, list] of byIdentity) {
        for (const url of this.o.relays) {
          const relay = await this.#relay(identity, url);
          const keys = list.map((c) => c.servicePubkey).sort();
          if (this.#subscribed.get(relay) !== keys.join()) {
            const filter: Filter = {
              kinds: [REQUEST_KIND],
              '#p': keys,
              since: Math.floor(this.gateway.nwc.now().getTime() / 1000) - MAX_EVENT_AGE_S,
            };
            relay.subscribe(filter);
            this.#subscribed.set(relay, keys.join());
          }
          for (const c of list) if (this.gateway.nwc.usable(c)) await this.#announce(relay, url, c);
        }
      }
      await this.#follow();
    } catch (err) {
      this.o.log('nwc: refreshing connections failed', err);
    } finally {
      this.#refreshing = false;
    }
  }

  async #relay(identity: string, url: string): Promise<Relay> {
    const key = `${identity}\u0000${url}`;
    let relay = this.#relays.get(key);
    if (!relay) {
      const created: Relay = new Relay({
        url,
        open: (u, who) => this.gateway.nwc.openRelay(u, who),
        identity,
        onEvent: (event) => void this.#handle(created, event),
        onOpen: () => {
          for (const k of [...this.#announced]) if (k.startsWith(key)) this.#announced.delete(k);
        },
        log: this.o.log,
      });
      relay = created;
      this.#relays.set(key, relay);
      await relay.start();
    }
    return relay;
  }

  /** The connection's info event (13194), once per relay socket. */
  async #announce(relay: Relay, url: string, c: NwcConnection): Promise<void> {
    const key = `${c.identity}\u0000${url}\u0000${c.id}`;
    if (this.#announced.has(key)) return;
    const event = this.gateway.nwc.withServiceKey(c.id, (k) =>
      k.sign({
        kind: INFO_KIND,
        created_at: Math.floor(this.gateway.nwc.now().getTime() / 1000),
        tags: [
          ['encryption', c.encryptions.join(' ')],
          ['notifications', notificationsOf(c).join(' ')],
        ],
        content: [...c.methods, 'notifications'].join(' '),
      }),
    );
    try {
      await relay.publish(event);
      this.#announced.add(key);
    } catch (err) {
      this.o.log(`nwc: the info event of ${c.id} was not published`, err);
    }
  }

  async #handle(relay: Relay, event: Event): Promise<void> {
    try {
      await this.#handleOrThrow(relay, event);
    } catch (err) {
      this.o.log('nwc: a request event could not be handled', err);
    }
  }

  async #handleOrThrow(relay: Relay, event: Event): Promise<void> {
    if (event.kind !== REQUEST_KIND || !verifyEvent(event)) return;
    const servicePubkey = tag(event, 'p');
    if (!servicePubkey) return;
    const connection = await this.gateway.nwc.byServiceKey(servicePubkey);
    if (!connection) return; // not ours
    const now = Math.floor(this.gateway.nwc.now().getTime() / 1000);
    const expiration = tag(event, 'expiration');
    if (expiration !== undefined && !(Number(expiration) > now)) return;
    if (event.created_at < now - MAX_EVENT_AGE_S || event.created_at > now + MAX_EVENT_FUTURE_S) return;
    const scheme = (tag(event, 'encryption') ?? 'nip04') as NwcEncryption;
    const respond = (method: string, answer: Answer, as: NwcEncryption = scheme) =>
      this.#respond(relay, connection, event, method, answer, as);
    if (connection.clientPubkey !== event.pubkey || !this.gateway.nwc.usable(connection)) {
      // Nothing is decrypted, stored or run for an author who is not this connection's client,
      // and the answers are counted: past the bound they are dropped.
      if (!this.#mayRefuse(connection.id, now)) return;
      return respond(
        '',
        { error: { code: 'UNAUTHORIZED', message: 'no wallet is connected for this key' } },
        'nip44_v2',
      );
    }
    if (!(await this.gateway.nwc.take(event.id, connection.id))) return; // a replay: answered once
    if (!connection.encryptions.includes(scheme)) {
      return respond(
        '',
        {
          error: {
            code: 'UNSUPPORTED_ENCRYPTION',
            message: `this connection takes ${connection.encryptions.join(', ')}`,
          },
        },
        'nip44_v2',
      );
    }
    let method = '';
    let params: Params = {};
    try {
      const text = this.gateway.nwc.withServiceKey(connection.id, (k) =>
        k.decrypt(event.pubkey, event.content, scheme),
      );
      const request = JSON.parse(text) as { method?: unknown; params?: unknown };
      if (typeof request?.method !== 'string' || request.method.length > 64) throw new Error('no method');
      method = request.method;
      if (
        request.params !== undefined &&
        (typeof request.params !== 'object' || request.params === null || Array.isArray(request.params))
      )
        throw new Error('params is not an object');
      params = (request.params ?? {}) as Params;
    } catch {
      return respond(method, {
        error: { code: 'OTHER', message: 'the request is not an encrypted NIP-47 request' },
      });
    }
    const answer = await this.#run(connection, method, params, event.id, scheme);
    await respond(method, answer);
  }

  #mayRefuse(connectionId: string, nowSeconds: number): boolean {
    const minute = Math.floor(nowSeconds / 60);
    const seen = this.#refusals.get(connectionId);
    if (!seen || seen.minute !== minute) {
      this.#refusals.set(connectionId, { minute, count: 1 });
      return true;
    }
    seen.count += 1;
    return seen.count <= MAX_REFUSALS_PER_MINUTE;
  }

  async #run(
    connection: NwcConnection,
    method: string,
    params: Params,
    eventId: string,
    scheme: NwcEncryption,
  ): Promise<Answer> {
    const known = METHODS[method];
    if (!known)
      return {
        error: { code: 'NOT_IMPLEMENTED', message: `${method.slice(0, 64)} is not a method Warden offers` },
      };
    if (!connection.methods.includes(method))
      return { error: { code: 'RESTRICTED', message: `this connection may not call ${method}` } };
    try {
      if (known.kind === 'local') return { result: await this.#local(connection, method) };
      return await this.#operation(connection, method, known, params, eventId, scheme);
    } catch (err) {
      if (err instanceof Nip47Error) return { error: { code: err.code, message: err.message } };
      if (isWardenError(err))
        return { error: { code: nip47CodeOf(err.code, method), message: `${err.code}: ${err.message}` } };
      this.o.log(`nwc: ${method} failed`, err);
      return { error: { code: 'INTERNAL', message: 'internal error' } };
    }
  }

  async #operation(
    connection: NwcConnection,
    method: string,
    m: OperationMethod,
    params: Params,
    eventId: string,
    scheme: NwcEncryption,
  ): Promise<Answer> {
    const principal = principalOf(connection);
    let view = await this.gateway.requests.submit(principal, m.operation, m.body(params, eventId));
    if (view.status === 'held' && connection.holdWaitSeconds > 0)
      view = await this.gateway.requests.get(principal, view.requestId, connection.holdWaitSeconds);
    if (view.status === 'done') {
      const result = m.result((view.result ?? {}) as Record<string, unknown>);
      if (m.pays) void this.#notify(connection, scheme, 'payment_sent', paymentNotification(view, result));
      if (method === 'make_invoice' && typeof result.payment_hash === 'string')
        this.#followInvoice(result.payment_hash, connection, scheme, result.expires_at);
      return { result };
    }
    if (
      view.status === 'held' ||
      view.status === 'executing' ||
      view.status === 'scheduled' ||
      view.status === 'unknown'
    ) {
      if (m.pays) this.#following.set(view.requestId, { connection, scheme, method });
      const message =
        view.status === 'held'
          ? `held for an operator's approval (request ${view.requestId}); payment_sent follows if it is paid`
          : `not known yet whether it was paid (request ${view.requestId}); payment_sent follows if it was`;
      return { error: { code: view.status === 'held' ? 'RESTRICTED' : 'OTHER', message } };
    }
    const code = view.error?.code ?? 'INTERNAL';
    return { error: { code: nip47CodeOf(code, method), message: `${code}: ${describe(view)}` } };
  }

  async #local(connection: NwcConnection, method: string): Promise<Record<string, unknown>> {
    if (method === 'get_info')
      return { alias: 'Warden', methods: connection.methods, notifications: notificationsOf(connection) };
    const budget = await this.gateway.nwc.budget(connection);
    if (!budget) return {};
    // NIP-47 counts msat; Warden's Lightning budgets are sat (the asset `btc`).
    return {
      used_budget: Number(budget.used * 1000n),
      total_budget: Number(budget.total * 1000n),
      ...(budget.renewsAt === null ? {} : { renews_at: Math.floor(budget.renewsAt.getTime() / 1000) }),
      renewal_period: budget.period === null ? 'never' : PERIODS[budget.period],
    };
  }

  #followInvoice(paymentHash: string, connection: NwcConnection, scheme: NwcEncryption, expiresAt: unknown) {
    const now = Date.now();
    const expires = typeof expiresAt === 'number' ? expiresAt * 1000 : now + 600_000;
    this.#invoices.follow(paymentHash, { connection, scheme }, expires, now);
  }

  /** Open invoices of connections, looked up ever less often: settled → `payment_received`. */
  async #followInvoices(): Promise<void> {
    const due = this.#invoices.due(Date.now(), (f) => this.gateway.nwc.usable(f.connection));
    for (const { paymentHash, value: f } of due) {
      // Asked again before each lookup: the connection may be revoked while earlier ones run.
      if (!this.gateway.nwc.usable(f.connection)) {
        this.#invoices.done(paymentHash);
        continue;
      }
      const m = METHODS.lookup_invoice as OperationMethod;
      const view = await this.gateway.requests
        .submit(principalOf(f.connection), m.operation, m.body({ payment_hash: paymentHash }, ''))
        .catch(() => null);
      const result =
        view?.status === 'done' ? m.result((view.result ?? {}) as Record<string, unknown>) : null;
      if (result?.state === 'settled') {
        this.#invoices.done(paymentHash);
        await this.#notify(f.connection, f.scheme, 'payment_received', result);
      } else if (result?.state === 'failed') this.#invoices.done(paymentHash);
    }
  }

  /** Pending payments of connections: when one ends done, `payment_sent`; open invoices followed. */
  async #follow(): Promise<void> {
    await this.#followInvoices();
    for (const [requestId, f] of this.#following) {
      const principal = principalOf(f.connection);
      const view = await this.gateway.requests.get(principal, requestId).catch(() => null);
      if (!view || ['held', 'executing', 'scheduled', 'unknown'].includes(view.status)) continue;
      this.#following.delete(requestId);
      const m = METHODS[f.method] as OperationMethod;
      if (view.status === 'done')
        await this.#notify(
          f.connection,
          f.scheme,
          'payment_sent',
          paymentNotification(view, m.result((view.result ?? {}) as Record<string, unknown>)),
        );
    }
  }

  async #notify(
    connection: NwcConnection,
    scheme: NwcEncryption,
    type: string,
    notification: Record<string, unknown>,
  ): Promise<void> {
    const event = this.gateway.nwc.withServiceKey(connection.id, (k) =>
      k.sign({
        kind: NOTIFICATION_KIND[scheme],
        created_at: Math.floor(this.gateway.nwc.now().getTime() / 1000),
        tags: [['p', connection.clientPubkey]],
        content: k.encrypt(
          connection.clientPubkey,
          JSON.stringify({ notification_type: type, notification }),
          scheme,
        ),
      }),
    );
    await this.#publish(connection, event);
  }

  async #respond(
    relay: Relay,
    connection: NwcConnection,
    request: Event,
    method: string,
    answer: Answer,
    scheme: NwcEncryption,
  ): Promise<void> {
    const body = { result_type: method, error: answer.error ?? null, result: answer.result ?? null };
    const event = this.gateway.nwc.withServiceKey(connection.id, (k) =>
      k.sign({
        kind: RESPONSE_KIND,
        created_at: Math.floor(this.gateway.nwc.now().getTime() / 1000),
        tags: [
          ['p', request.pubkey],
          ['e', request.id],
          ['encryption', scheme],
        ],
        content: k.encrypt(request.pubkey, JSON.stringify(body), scheme),
      }),
    );
    await relay.publish(event).catch((err) => this.o.log('nwc: a response was not published', err));
    // The other relays of the connection too: the client may listen on any of them.
    await this.#publish(connection, event, relay);
  }

  async #publish(connection: NwcConnection, event: Event, except?: Relay): Promise<void> {
    for (const url of this.o.relays) {
      const relay = this.#relays.get(`${connection.identity}\u0000${url}`);
      if (!relay || relay === except) continue;
      await relay.publish(event).catch((err) => this.o.log(`nwc: an event was not published to ${url}`, err));
    }
  }
}

/** The door as `warden start` runs it (its relays' route is the gateway's `nwc` option). */
export async function startNwcDoor(gateway: Gateway, relays: readonly string[], log: NwcDoorOptions['log']) {
  const door = new NwcDoor(gateway, { relays, log });
  await door.start();
  return door;
}
