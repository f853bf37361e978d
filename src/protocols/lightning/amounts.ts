/**
 * The amounts of a Lightning request body, decimal strings (core/validate.ts) never above all the
 * money there is: `amount_msat`, what is paid or asked for, and `fee_limit_sat`, the most routing
 * may cost (absent: the default of pay/fee-limit.ts).
 */
import { WardenError } from '../../core/errors.ts';
import { parseBaseUnits } from '../../core/validate.ts';
import { MAX_AMOUNT_MSAT } from './bolt11.ts';

/** 21 million BTC in sat: no fee limit above all the money there is. */
const MAX_SAT = MAX_AMOUNT_MSAT / 1000n;

/** `amount_msat`: above 0 (nothing is paid or asked for a zero amount). */
export function parseAmountMsat(value: unknown): bigint {
  const amountMsat = parseBaseUnits(value, 'amount_msat', MAX_AMOUNT_MSAT);
  if (amountMsat <= 0n)
    throw new WardenError('INVALID_AMOUNT', 'amount_msat must be above 0', { field: 'amount_msat' });
  return amountMsat;
}

/** `fee_limit_sat`, or null (absent or null: the default). */
export function parseFeeLimitSat(value: unknown): bigint | null {
  return value === undefined || value === null ? null : parseBaseUnits(value, 'fee_limit_sat', MAX_SAT);
}
