import type { Intent } from '../core/intent.ts';
import type { SaferAlternative } from '../core/risk.ts';

/** On-chain payments below this many sat are better made over Lightning (guideline 003). */
export const ONCHAIN_MIN_SAT = 10_000n;
/** Lightning payments above this many sat are better settled on-chain (guideline 003). */
export const LIGHTNING_MAX_SAT = 10_000_000n;

/**
 * A safer way to make the same payment, or null. Offered whatever the tolerance, so that policy and
 * front doors can show it next to a hold or a denial. Amounts are sat for both Bitcoin and Lightning.
 */
export function saferAlternative(intent: Intent): SaferAlternative | null {
  if (intent.protocol === 'bitcoin' && intent.action === 'send' && intent.amount < ONCHAIN_MIN_SAT) {
    return {
      protocol: 'lightning',
      reason: `amount below ${ONCHAIN_MIN_SAT} sat is too small for an efficient on-chain transaction: use Lightning for micropayments`,
    };
  }
  if (intent.protocol === 'lightning' && intent.action === 'pay' && intent.amount > LIGHTNING_MAX_SAT) {
    return {
      protocol: 'bitcoin',
      reason: `amount above ${LIGHTNING_MAX_SAT} sat exceeds the safe Lightning threshold: use Bitcoin on-chain for better settlement guarantees`,
    };
  }
  return null;
}
