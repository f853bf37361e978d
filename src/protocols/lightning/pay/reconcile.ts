/**
 * Reconciling payments whose end is not known (a timeout while the payee held the HTLC, a lost
 * answer, a crash): the recorded payment hash is followed on the backend (lnd's TrackPaymentV2, CLN's listpays),
 * with the identity's credential. Succeeded → commit, the fee paid booked; failed → release;
 * still in flight or no answer → left for the next run. Nothing on record (the crash came before
 * the hash was claimed and recorded, which is before it left) → release: it was never handed over.
 */
import { isWardenError } from '../../../core/errors.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import type { BackendVerdict, PendingRequest, ReconcileContext, ReconcileHooks } from '../../module.ts';
import { isHash } from '../backend/answers.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import { settleClaim } from '../payments.ts';
import type { LightningDb } from '../tables.ts';
import type { PayRecord } from './execute.ts';
import { satCeil } from './fee-limit.ts';

/** How long one reconcile run follows each payment before it leaves it for the next run. */
const TRACK_MS = 2_000;

function recorded(request: PendingRequest): PayRecord | null {
  const r = request.result as Partial<PayRecord> | null;
  if (!r || !isHash(r.paymentHash) || typeof r.network !== 'string') return null;
  return r as PayRecord;
}

const why = (err: unknown) => (isWardenError(err) ? `${err.code}: ${err.message}` : 'INTERNAL');

async function verdictOf(
  request: PendingRequest,
  backend: LightningModuleBackend | null,
  rc: ReconcileContext<LightningDb>,
): Promise<BackendVerdict> {
  const { requestId } = request;
  const paid = recorded(request);
  if (!paid)
    return {
      requestId,
      verdict: 'release',
      reason: 'no payment hash on record: it was never handed to the backend',
    };
  if (!backend) return { requestId, verdict: 'unresolved', reason: 'no Lightning backend is configured' };
  // What a backend that names no fee counts as the fee: without it nothing can be booked right.
  if (typeof paid.feeLimitSat !== 'string' || !/^[0-9]{1,19}$/.test(paid.feeLimitSat))
    return {
      requestId,
      verdict: 'unresolved',
      reason: 'no fee limit on record: the fee paid could not be counted',
    };
  const feeLimitMsat = BigInt(paid.feeLimitSat) * 1000n;
  try {
    const state = await backend.withBackend(
      request.identity,
      paid.network as BitcoinNetwork,
      rc.signer(request.identity, 'lightning-credential'),
      (ln) => ln.track(paid.paymentHash, TRACK_MS, feeLimitMsat),
    );
    const at = new Date().toISOString();
    if (state === null) {
      await settleClaim(rc.tables, requestId, 'failed', at);
      return {
        requestId,
        verdict: 'release',
        reason: `the backend has no payment of ${paid.paymentHash}: it was never made`,
      };
    }
    if (state.status === 'succeeded') {
      await settleClaim(rc.tables, requestId, 'succeeded', at);
      return {
        requestId,
        verdict: 'commit',
        reason: `${paid.paymentHash} succeeded (preimage proven), fee ${state.feeMsat} msat`,
        spent: { fee: satCeil(state.feeMsat), valueMoved: true },
      };
    }
    if (state.status === 'failed') {
      await settleClaim(rc.tables, requestId, 'failed', at);
      return {
        requestId,
        verdict: 'release',
        reason: `${paid.paymentHash} failed (${state.reason}): nothing was paid`,
      };
    }
    return { requestId, verdict: 'unresolved', reason: `${paid.paymentHash} is still in flight` };
  } catch (err) {
    return { requestId, verdict: 'unresolved', reason: `the backend did not answer (${why(err)})` };
  }
}

export const lightningReconcile: ReconcileHooks<LightningModuleBackend, LightningDb> = {
  async verdicts(requests, backend, rc) {
    const out: BackendVerdict[] = [];
    for (const r of requests)
      out.push(
        rc
          ? await verdictOf(r, backend, rc)
          : { requestId: r.requestId, verdict: 'unresolved', reason: 'no credential lent to reconcile' },
      );
    return out;
  },
  // The fee paid is known when the payment succeeds: nothing is left at its worst case.
  async feesPaid() {
    return { found: [], unresolved: [] };
  },
  // An operator says it was not paid: its hash may be paid again.
  async released(request, tables) {
    await settleClaim(tables, request.requestId, 'failed', new Date().toISOString());
    return {};
  },
};
