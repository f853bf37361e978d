/**
 * What a Bitcoin intent carries of its fee and of the fee environment it is judged in: the facets
 * the fee caps read (policy.ts) and the signals risk reads (risks.ts). One fee-environment read per
 * request at most: a send reads it anyway (its default fee rate is the node's estimate); a PSBT
 * signature reads it only when a node of its network is configured, and judges without it when
 * none answers (a cap that needs the estimate then refuses: fail closed).
 */
import { isWardenError } from '../../core/errors.ts';
import type { IntentSignals } from '../../core/intent.ts';
import type { BitcoinBackend } from './backend.ts';
import type { FeeEnvironment } from './chain/chain.ts';

/** The confirmation target of the node's estimate a send pays when it names no fee rate. */
export const ESTIMATE_TARGET_BLOCKS = 6;
/** Guideline 003's fee monitor: the fastest fee above 100 sat/vB (in msat/vB) is a high-fee time. */
export const HIGH_FEE_MSAT_PER_VB = 100_000n;
/** Guideline 003's mempool monitor: more than 100,000 transactions waiting is congestion. */
export const CONGESTED_MEMPOOL_TX = 100_000;

/** Fee per vbyte in msat, rounded up: a cap compared with it never lets a higher rate through. */
export function feeRateUp(fee: bigint, vsize: number): bigint {
  const v = BigInt(Math.max(1, vsize));
  return (fee * 1000n + v - 1n) / v;
}

/**
 * The quantities the caps read: the fee (sat), the fee rate (sat/vB and msat/vB, both rounded
 * up), and the node's next-block estimate (msat/vB), null when no node gave one: the cap relative
 * to it then cannot be checked and refuses.
 */
export function feeFacets(fee: bigint, vsize: number, environment: FeeEnvironment | null) {
  const rate = feeRateUp(fee, vsize);
  const estimate = environment?.fastest ?? null;
  return {
    max_fee: fee,
    max_fee_rate: (rate + 999n) / 1000n,
    fee_rate_msat_vb: rate,
    fee_estimate_msat_vb: estimate !== null && estimate > 0n ? estimate : null,
  };
}

/** The fee environment as risk signals; what the backend did not tell is left out (unknown). */
export function feeSignals(environment: FeeEnvironment | null): IntentSignals {
  if (environment === null) return {};
  const { fastest, mempoolTx } = environment;
  return {
    ...(fastest === null ? {} : { highFees: fastest > HIGH_FEE_MSAT_PER_VB }),
    ...(mempoolTx === null ? {} : { mempoolTx, mempoolCongested: mempoolTx > CONGESTED_MEMPOOL_TX }),
  };
}

/**
 * The fee environment for an operation that does not need a node: null without a node of the
 * network, or when it fails to answer (the request is judged without it, never refused for it).
 */
export async function optionalFeeEnvironment(
  backend: BitcoinBackend | null,
  network: string,
  identity: string,
): Promise<FeeEnvironment | null> {
  if (!backend || !(backend.networks as readonly string[]).includes(network)) return null;
  try {
    return await backend.chain(network, identity).feeEnvironment(ESTIMATE_TARGET_BLOCKS);
  } catch (err) {
    if (isWardenError(err)) return null;
    throw err;
  }
}
