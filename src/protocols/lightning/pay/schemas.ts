/**
 * The JSON schemas a Lightning payment's request and result share, whether it pays an invoice or
 * a keysend: the same amounts, the same fee limit, the same answer once done (pay/execute.ts).
 */
import { z } from 'zod';

/** A decimal string of msat or sat, as core/validate.ts reads one. */
export const baseUnits = (what: string) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,18})$/)
    .describe(what);

/** `fee_limit_sat`, optional. */
export const feeLimitField = baseUnits(
  'the most the routing may cost, sat; absent: 1 % of the amount, at least 10 sat',
)
  .nullable()
  .optional();

const hash = z.string().regex(/^[0-9a-f]{64}$/);

/** What a payment that is done answers. */
export const paymentResultBody = z.object({
  paymentHash: hash,
  preimage: hash.describe('the proof of payment: its SHA-256 is the payment hash'),
  network: z.string(),
  payee: z.string().describe('the payee’s node id'),
  amountMsat: z.string(),
  feeLimitSat: z.string(),
  feeMsat: z.string().describe('the routing fee paid'),
  feeSat: z.string().describe('the fee as booked: msat rounded up'),
});
