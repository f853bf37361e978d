import type { Principal } from '../../core/principal.ts';
import type { Vault } from '../../keys/vault.ts';
import { explainPolicy } from '../../policy/index.ts';
import type { GatewayContext } from '../context.ts';
import { ledgerTotals, listLedger } from '../ledger.ts';
import type { Monitors } from '../monitors.ts';
import { loadPolicy } from '../policies.ts';
import type { Reads, RequestFilter, ReviewedRequest } from '../reads.ts';
import type { Access } from './access.ts';

const MONITOR_READERS = ['operator', 'admin', 'viewer'] as const;

/** What a principal may read: an agent its own identity, requests, policy and ledger only. */
export class ReadService {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly access: Access,
    private readonly vault: Vault,
    private readonly reads: Reads,
    private readonly monitors: Monitors,
  ) {}

  /** Requests by status (or the risk denials that may be accepted); an agent sees its own only. */
  async requests(
    principal: Principal,
    filter: { status?: RequestFilter; identity?: string; limit?: number },
  ): Promise<ReviewedRequest[]> {
    this.access.limit(principal, 'read.request');
    const identity = this.access.scopeFilter(principal, filter.identity);
    return this.reads.requests({ ...filter, ...(identity === undefined ? {} : { identity }) });
  }

  identities(principal: Principal) {
    this.access.limit(principal, 'read.identities');
    const all = this.vault.listIdentities();
    return principal.role === 'agent' ? all.filter((i) => i.name === principal.identity) : all;
  }

  identity(principal: Principal, name: string) {
    this.access.limit(principal, 'read.identities');
    return this.vault.getIdentity(this.access.scope(principal, name));
  }

  async policy(principal: Principal, name: string) {
    this.access.limit(principal, 'read.policy');
    const identity = this.access.scope(principal, name);
    const loaded = await loadPolicy(this.ctx.store.db, identity);
    return {
      identity,
      source: loaded.source,
      hash: loaded.hash,
      explain: explainPolicy(loaded.policy),
      document: loaded.document,
    };
  }

  /**
   * A module's monitor reading (Lightning's channels): node-level state shared by every identity
   * on the node, so operators and viewers only; an agent sees the facts its own payments were
   * judged on, in their review. `fresh` reads the backend now (rate-limited as a read).
   */
  async monitor(principal: Principal, module: string, fresh: boolean) {
    this.access.requireRole(principal, MONITOR_READERS);
    this.access.limit(principal, 'read.monitor');
    return this.monitors.read(module, fresh);
  }

  /** Exact totals per identity, asset and status (bigint), with the entries behind them. */
  async ledger(principal: Principal, identity?: string) {
    this.access.limit(principal, 'read.ledger');
    const target = this.access.scopeFilter(principal, identity);
    return {
      totals: await ledgerTotals(this.ctx.store.db, target),
      entries: await listLedger(this.ctx.store.db, target ? { identity: target } : {}),
    };
  }
}
