import { actorOf, type Principal } from '../../core/principal.ts';
import {
  createTokenAudited,
  moduleActionAudited,
  revokeTokenAudited,
  setPolicyAudited,
  tokens,
} from '../admin.ts';
import type { Circuits } from '../circuits.ts';
import type { Operations } from '../operations.ts';
import { recoverOrphans } from '../orphans.ts';
import { reconcile, type StuckRequest, stuckRequests } from '../reconcile.ts';
import { type ReconcileVerdict, reconcileFromBackends } from '../reconcile-backends.ts';
import type { TokenSpec } from '../tokens.ts';
import type { Warden } from '../warden.ts';
import type { Access } from './access.ts';

const ADMINS = ['admin'] as const;
const OPERATORS = ['operator', 'admin'] as const;

/** Tokens and policies: admin only, each change audited in the same transaction (admin.ts). */
export class AdminService {
  constructor(
    private readonly warden: Warden,
    private readonly access: Access,
    private readonly operations: Operations,
    private readonly circuits: Circuits,
  ) {}

  /**
   * New Tor circuits for one identity's next requests, and none other's (incident response: an
   * identity whose traffic may be watched). Operators may: it widens nothing.
   */
  async rotateCircuits(
    principal: Principal,
    identity: string,
    reason: string | null = null,
  ): Promise<{ identity: string; seq: number }> {
    this.access.requireRole(principal, OPERATORS);
    this.access.limit(principal, 'admin.circuits');
    const { seq } = await this.circuits.rotate(identity, reason);
    return { identity, seq };
  }

  async tokens(principal: Principal) {
    this.access.requireRole(principal, ADMINS);
    return tokens(this.warden);
  }

  async createToken(principal: Principal, spec: TokenSpec) {
    this.access.requireRole(principal, ADMINS);
    this.access.limit(principal, 'admin.token');
    return createTokenAudited(this.warden, spec);
  }

  async revokeToken(principal: Principal, id: string) {
    this.access.requireRole(principal, ADMINS);
    this.access.limit(principal, 'admin.token');
    return revokeTokenAudited(this.warden, id);
  }

  /** Sets an identity's policy (or the default with null), after parsing it in full. */
  async setPolicy(principal: Principal, identity: string | null, document: string) {
    this.access.requireRole(principal, ADMINS);
    this.access.limit(principal, 'admin.policy');
    return setPolicyAudited(this.warden, identity, document);
  }

  /** A protocol module's action on its own state for one identity (registering a wallet). */
  async moduleAction(principal: Principal, name: string, identity: string, args: unknown) {
    this.access.requireRole(principal, ADMINS);
    this.access.limit(principal, 'admin.module');
    return moduleActionAudited(this.warden, name, identity, args);
  }

  /** Requests whose outcome is not known: their reservations count until reconciled. */
  async stuck(principal: Principal): Promise<StuckRequest[]> {
    this.access.requireRole(principal, OPERATORS);
    // What a process that is gone left executing is listed (and can be decided) at once.
    await recoverOrphans(this.warden);
    return stuckRequests(this.warden);
  }

  /** An operator's verdict on a stuck request: it happened (commit) or it did not (release). */
  async reconcile(principal: Principal, requestId: string, verdict: 'commit' | 'release') {
    this.access.requireRole(principal, OPERATORS);
    this.access.limit(principal, 'admin.reconcile');
    await recoverOrphans(this.warden);
    await reconcile(this.warden, requestId, verdict, { actor: actorOf(principal) });
  }

  /** Lets each module's backend settle what it can tell for certain (an EVM receipt). */
  async reconcileFromBackends(principal: Principal): Promise<ReconcileVerdict[]> {
    this.access.requireRole(principal, OPERATORS);
    this.access.limit(principal, 'admin.reconcile');
    return reconcileFromBackends(this.warden, this.operations);
  }
}
