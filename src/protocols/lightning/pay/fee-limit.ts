/**
 * Money in a Lightning payment, counted as Bitcoin's `btc` in sat and never under: msat round UP
 * to the sat (a 1,500 msat payment books 2 sat), and the routing fee a payment may cost is a limit
 * given to the backend, booked whole until the fee paid is known.
 */

/** sat of `msat`, rounded up: a budget never counts less than what left. */
export function satCeil(msat: bigint): bigint {
  return (msat + 999n) / 1000n;
}

/** The default fee limit: 1 % of the amount (rounded up) … */
export const DEFAULT_FEE_PERCENT = 1n;
/** … and never less than this: a route through one or two nodes charging a base fee of 1 sat each fits. */
export const DEFAULT_FEE_FLOOR_SAT = 10n;

/** The fee limit of a payment of `amountMsat`: the request's, or 1 % with a floor of 10 sat. */
export function feeLimitSat(amountMsat: bigint, requested: bigint | null): bigint {
  if (requested !== null) return requested;
  const percent = satCeil((amountMsat * DEFAULT_FEE_PERCENT + 99n) / 100n);
  return percent > DEFAULT_FEE_FLOOR_SAT ? percent : DEFAULT_FEE_FLOOR_SAT;
}
