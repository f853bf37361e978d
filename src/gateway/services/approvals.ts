import { actorOf, type Principal } from '../../core/principal.ts';
import type { Approvals } from '../approvals.ts';
import type { GatewayContext } from '../context.ts';
import type { HeldRequest, Reads } from '../reads.ts';
import { getRequestRow, type RequestView } from '../requests.ts';
import type { Access } from './access.ts';

const REVIEWERS = ['operator', 'admin', 'viewer'] as const;
const DECIDERS = ['operator', 'admin'] as const;

/** Holds as operators see and decide them; every call checks the principal's role. */
export class ApprovalService {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly access: Access,
    private readonly reads: Reads,
    private readonly engine: Approvals,
  ) {}

  async list(principal: Principal): Promise<HeldRequest[]> {
    this.access.requireRole(principal, REVIEWERS);
    this.access.limit(principal, 'read.approvals');
    return this.reads.heldRequests();
  }

  /** One request as an approver reviews it: full payload, summary, intent hash, approvals. */
  async show(principal: Principal, requestId: string): Promise<HeldRequest> {
    this.access.requireRole(principal, REVIEWERS);
    this.access.limit(principal, 'read.approvals');
    return this.reads.held(await getRequestRow(this.ctx.store.db, requestId));
  }

  async decide(
    principal: Principal,
    requestId: string,
    verdict: 'approve' | 'deny',
    reason: string | null,
    reviewedIntentHash: string | null = null,
  ): Promise<RequestView> {
    this.access.requireRole(principal, DECIDERS);
    this.access.limit(principal, 'approvals.decide');
    return this.engine.decide(actorOf(principal), requestId, verdict, reason, reviewedIntentHash);
  }

  async acceptRisk(
    principal: Principal,
    requestId: string,
    reason: string,
    reviewedIntentHash: string | null = null,
  ): Promise<RequestView> {
    this.access.requireRole(principal, DECIDERS);
    this.access.limit(principal, 'approvals.decide');
    return this.engine.acceptRisk(actorOf(principal), requestId, reason, reviewedIntentHash);
  }
}
