import type { Principal, PrincipalBudget } from '../../core/principal.ts';
import type { NwcServiceKey } from '../../keys/nwc-service-key.ts';
import { createNet, type Net, type Route } from '../../net/http.ts';
import type { NetWebSocket } from '../../net/websocket.ts';
import { nextPeriodStart, parseWindow, windowStart } from '../../policy/index.ts';
import { COUNTING } from '../ledger.ts';
import {
  createNwcConnection,
  listNwcConnections,
  type NwcConnection,
  type NwcConnectionSpec,
  revokeNwcConnection,
  takeNwcEvent,
  usable,
} from '../nwc-connections.ts';
import { PRINCIPAL_FACET } from '../principal-budget.ts';
import type { Warden } from '../warden.ts';
import type { Access } from './access.ts';

const ADMINS = ['admin'] as const;

/** How the door's relays are reached: the `nwc` section of warden.yaml, resolved. */
export interface NwcRoute {
  via: 'tor' | 'direct';
  socks: { host: string; port: number } | null;
  allowLoopback: boolean;
}

export interface BudgetStatus {
  used: bigint;
  total: bigint;
  asset: string;
  renewsAt: Date | null;
  /** The calendar unit the budget renews by; null for a rolling window. */
  period: 'day' | 'week' | 'month' | null;
}

/**
 * What the NWC door (api/nwc/) needs of the gateway: connections (admin: create, list, revoke,
 * audited), finding the one a request event is for, remembering events taken (replays are answered
 * once), the connection's own service key for one call, and how much of its budget is used.
 */
export class NwcConnections {
  #net: Net | null = null;

  constructor(
    private readonly warden: Warden,
    private readonly access: Access,
    private readonly route: NwcRoute = { via: 'direct', socks: null, allowLoopback: false },
  ) {}

  /** A relay socket through net/, on the identity's own circuits when the route is Tor. */
  openRelay(url: string, identity: string): Promise<NetWebSocket> {
    if (!this.#net) {
      const { via, socks, allowLoopback } = this.route;
      // Tor without a SOCKS port cannot be configured (nwcSettingsOf); were it, nothing goes direct.
      const route: Route =
        via === 'tor' ? { via: 'tor', socks: socks ?? { host: '127.0.0.1', port: 9 } } : { via: 'direct' };
      this.#net = createNet({ route, allowLoopback });
    }
    return this.#net.webSocket(url, { identity });
  }

  async create(principal: Principal, spec: NwcConnectionSpec) {
    this.access.requireRole(principal, ADMINS);
    this.access.limit(principal, 'admin.nwc');
    return createNwcConnection(this.warden, spec);
  }

  async list(principal: Principal, identity?: string): Promise<NwcConnection[]> {
    this.access.requireRole(principal, ADMINS);
    return listNwcConnections(this.warden, identity);
  }

  async revoke(principal: Principal, id: string): Promise<NwcConnection> {
    this.access.requireRole(principal, ADMINS);
    this.access.limit(principal, 'admin.nwc');
    return revokeNwcConnection(this.warden, id);
  }

  /** Every connection the door should listen for (usable now), for its subscriptions. */
  async listening(): Promise<NwcConnection[]> {
    const now = this.warden.clock.now();
    return (await listNwcConnections(this.warden)).filter((c) => usable(c, now));
  }

  /** The connection whose service key a request event names, whatever its state (the door decides). */
  async byServiceKey(servicePubkey: string): Promise<NwcConnection | null> {
    const all = await listNwcConnections(this.warden);
    return all.find((c) => c.servicePubkey === servicePubkey) ?? null;
  }

  usable(connection: NwcConnection): boolean {
    return usable(connection, this.warden.clock.now());
  }

  take(eventId: string, connectionId: string): Promise<boolean> {
    return takeNwcEvent(this.warden, eventId, connectionId);
  }

  withServiceKey<T>(connectionId: string, fn: (key: NwcServiceKey) => T): T {
    return this.warden.vault.withNwcServiceKey(connectionId, fn);
  }

  now(): Date {
    return this.warden.clock.now();
  }

  /**
   * The connection's budget now: what its window holds of the connection's entries (reserved and
   * spent, fees included), the cap, and when a calendar window renews (null: rolling).
   */
  async budget(connection: NwcConnection): Promise<BudgetStatus | null> {
    const budget = connection.budget;
    const window = budget ? parseWindow(budget.window) : null;
    if (!budget || !window) return null;
    const now = this.warden.clock.now().getTime();
    const used = await this.#used(connection.identity, budget, new Date(windowStart(window, now)));
    return {
      used,
      total: budget.maxValue,
      asset: budget.asset,
      renewsAt: window.kind === 'calendar' ? new Date(nextPeriodStart(window.unit, now)) : null,
      period: window.kind === 'calendar' ? window.unit : null,
    };
  }

  async #used(identity: string, budget: PrincipalBudget, since: Date): Promise<bigint> {
    const rows = await this.warden.store.db
      .selectFrom('ledger')
      .select(['amount', 'fee', 'facets'])
      .where('identity', '=', identity)
      .where('asset', '=', budget.asset)
      .where('status', 'in', [...COUNTING])
      // As the budget windows count: open entries whenever they were made, committed ones in the window.
      .where((eb) => eb.or([eb('at', '>=', since.getTime()), eb('status', '!=', 'committed')]))
      .where('facets', 'like', `%"${PRINCIPAL_FACET}":"${budget.scope}"%`)
      .execute();
    let total = 0n;
    for (const row of rows) {
      const facets = JSON.parse(row.facets) as Record<string, unknown>;
      if (facets[PRINCIPAL_FACET] === budget.scope) total += BigInt(row.amount) + BigInt(row.fee);
    }
    return total;
  }
}
