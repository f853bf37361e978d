/**
 * Where a held request stands: pure arithmetic over the hold requirement, the approvals and vetoes
 * recorded so far, and the current time. The gateway stores approvals and vetoes; this decides.
 */
import type { HoldRequirement } from '../core/decision.ts';

export type HoldState = 'waiting_approvals' | 'waiting_delay' | 'ready' | 'vetoed';

export interface HoldVote {
  operator: string;
  at: Date;
}

export interface HoldProgressInput {
  requirement: HoldRequirement;
  heldAt: Date;
  approvals: readonly HoldVote[];
  vetoes: readonly HoldVote[];
}

export interface HoldProgress {
  state: HoldState;
  distinctApprovals: number;
  remainingApprovals: number;
  /** When the hold is (or was) released: once approvals are complete, the later of their completion and heldAt + delay. */
  releaseAt: Date | null;
}

/**
 * - One operator counts once, however often they approve. Approvals count only when made between
 *   `heldAt` and `now` (an approval from before the hold, or dated in the future, does not count).
 * - Any veto, whenever recorded, vetoes the request for good.
 * - The delay runs from `heldAt`, in parallel with collecting approvals.
 * - Ready when the approvals are complete and the delay has elapsed.
 */
export function holdProgress(input: HoldProgressInput, now: Date): HoldProgress {
  const t = now.getTime();
  const heldAt = input.heldAt.getTime();
  const needed = Math.max(0, input.requirement.approvals);
  const delayEnd = heldAt + Math.max(0, input.requirement.delaySeconds) * 1000;

  const firstApproval = new Map<string, number>();
  for (const a of input.approvals) {
    const at = a.at.getTime();
    if (!(at >= heldAt && at <= t)) continue;
    const seen = firstApproval.get(a.operator);
    if (seen === undefined || at < seen) firstApproval.set(a.operator, at);
  }
  const distinctApprovals = firstApproval.size;
  const remainingApprovals = Math.max(0, needed - distinctApprovals);

  if (input.vetoes.length > 0) {
    return { state: 'vetoed', distinctApprovals, remainingApprovals, releaseAt: null };
  }
  if (remainingApprovals > 0) {
    return { state: 'waiting_approvals', distinctApprovals, remainingApprovals, releaseAt: null };
  }
  // The moment the N-th distinct operator approved (heldAt when no approval is needed).
  const times = [...firstApproval.values()].sort((a, b) => a - b);
  const completedAt = needed === 0 ? heldAt : (times[needed - 1] ?? heldAt);
  const releaseAt = Math.max(completedAt, delayEnd);
  return {
    state: t >= delayEnd ? 'ready' : 'waiting_delay',
    distinctApprovals,
    remainingApprovals,
    releaseAt: new Date(releaseAt),
  };
}
