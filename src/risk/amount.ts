import type { Intent } from '../core/intent.ts';
import type { RiskLevel } from '../core/risk.ts';
import type { LikelihoodBump } from './signals.ts';

/**
 * Larger amounts make an operation a more attractive target (guideline 003): the likelihood of every
 * targeted risk (severity High or Critical) rises with the amount. Thresholds are strict ("more than"):
 *
 *   bitcoin, lightning (sat):  > 10,000,000 sat (0.1 BTC) +1 · > 100,000,000 sat (1 BTC) +2
 *   evm native coin (wei):     > 10^18 wei (1 ETH)        +1 · > 10^19 wei (10 ETH)      +2
 *
 * Lightning amounts are sat, as for Bitcoin (Intent asset `btc`). The EVM thresholds are priced as
 * ETH on every chain: for cheaper native coins that overstates the risk, which is the safe side.
 * Token amounts (asset `evm:<chainId>:<contract>`) are in the token's own base units and cannot be
 * priced here, so they get no amount bump; the approval and contract-call rows cover them.
 * Nostr moves no value.
 */
export const TARGETED_SEVERITY: RiskLevel = 3;

export const SAT_THRESHOLDS = { plusOne: 10_000_000n, plusTwo: 100_000_000n } as const;
export const WEI_THRESHOLDS = { plusOne: 10n ** 18n, plusTwo: 10n * 10n ** 18n } as const;

interface Scale {
  unit: string;
  plusOne: bigint;
  plusTwo: bigint;
  oneLabel: string;
  twoLabel: string;
}

const SAT: Scale = { unit: 'sat', ...SAT_THRESHOLDS, oneLabel: '0.1 BTC', twoLabel: '1 BTC' };
const WEI: Scale = { unit: 'wei', ...WEI_THRESHOLDS, oneLabel: '1 ETH', twoLabel: '10 ETH' };

const EVM_TOKEN_ASSET = /^evm:[^:]*:/;

function scaleOf(intent: Intent): Scale | null {
  switch (intent.protocol) {
    case 'bitcoin':
    case 'lightning':
      return SAT;
    case 'evm':
      // Anything not spelled as a token is treated as the native coin (the safe side).
      return EVM_TOKEN_ASSET.test(intent.asset) ? null : WEI;
    default:
      return null;
  }
}

/** The amount bump for targeted risks of this intent, or null when the amount is below the thresholds. */
export function amountBump(intent: Intent): LikelihoodBump | null {
  const scale = scaleOf(intent);
  if (scale === null) return null;
  const amount = intent.amount;
  if (amount > scale.plusTwo) {
    return {
      steps: 2,
      reason: `amount ${amount} ${scale.unit} > ${scale.plusTwo} ${scale.unit} (${scale.twoLabel}): likelihood +2 (targeted risk)`,
    };
  }
  if (amount > scale.plusOne) {
    return {
      steps: 1,
      reason: `amount ${amount} ${scale.unit} > ${scale.plusOne} ${scale.unit} (${scale.oneLabel}): likelihood +1 (targeted risk)`,
    };
  }
  return null;
}
