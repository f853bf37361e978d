/**
 * The hostile JSON body of `POST /v1/bitcoin/send`:
 *
 *   { to: address, amount_sat: "1000" }  or  { outputs: [{ to, amount_sat }, …] },
 *   feerate?: "2" | "2.5" (sat/vB), idempotencyKey?: string,
 *   amount_jitter?: { max_amount_sat?: "10500", min_amount_sat?: "9900" }   (one payment only)
 *
 * `amount_jitter` is the recipient's word that it accepts any amount in [min, max] (min defaults
 * to amount_sat: never less than asked unless the request says so; max to amount_sat): Warden
 * may then pay a random amount there, within the policy's caps (amount-jitter.ts). A range that
 * allows no other amount is refused: jitter asked for and not allowed.
 *
 * Amounts are decimal strings of satoshis (core/validate.ts); the fee rate a decimal string of
 * sat/vB (at most 3 decimals: msat/vB is the unit inside). Addresses are only shaped here; their
 * network is checked against the identity's in the intent. Nothing but a WardenError is thrown.
 */
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import {
  jsonType,
  optionalIdempotencyKey,
  parseBaseUnits,
  parseHostile,
  readBody,
} from '../../../core/validate.ts';
import { ADDRESS_SHAPE } from '../sign-psbt/request.ts';

export const SEND_FIELDS = [
  'to',
  'amount_sat',
  'outputs',
  'feerate',
  'idempotencyKey',
  'amount_jitter',
] as const;
const JITTER_FIELDS = ['min_amount_sat', 'max_amount_sat'] as const;
export const MAX_SEND_OUTPUTS = 50;
/** 21 million BTC. */
const MAX_SAT = 2_100_000_000_000_000n;
/** Highest fee rate a request may name: the PSBT analysis refuses above 1,000 sat/vB anyway. */
const MAX_FEERATE_MSAT = 1_000_000n;

export interface SendOutput {
  to: string;
  amountSat: bigint;
}

/** The amounts the recipient accepts, around the one asked (min ≤ amount_sat ≤ max, min < max). */
export interface AmountJitterRequest {
  minSat: bigint;
  maxSat: bigint;
}

export interface SendRequest {
  outputs: SendOutput[];
  /** Null: the amount asked is paid exactly. Only with a single payment. */
  jitter: AmountJitterRequest | null;
  /** msat/vB; null: the node's estimate. */
  feeRateMsatPerVb: bigint | null;
  idempotencyKey: string | null;
}

function fail(message: string, details: ErrorDetails): never {
  throw new WardenError('INVALID_REQUEST', message, details);
}

function address(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ADDRESS_SHAPE.test(value))
    fail(`${field} must be a Bitcoin address`, { field, type: jsonType(value) });
  return value;
}

function amount(value: unknown, field: string): bigint {
  const sat = parseBaseUnits(value, field, MAX_SAT);
  if (sat <= 0n) throw new WardenError('INVALID_AMOUNT', `${field} must be above 0`, { field });
  return sat;
}

export function parseFeeRate(value: unknown): bigint | null {
  if (value === undefined || value === null) return null;
  const m = typeof value === 'string' ? /^(\d{1,7})(?:\.(\d{1,3}))?$/.exec(value) : null;
  if (!m)
    fail('feerate must be a decimal string of sat/vB with at most 3 decimals, e.g. "2" or "2.5"', {
      field: 'feerate',
      type: jsonType(value),
    });
  const rate = BigInt(m[1]!) * 1000n + BigInt((m[2] ?? '').padEnd(3, '0'));
  if (rate < 1000n || rate > MAX_FEERATE_MSAT)
    fail('feerate must be from 1 to 1000 sat/vB', { field: 'feerate' });
  return rate;
}

function jitterRange(value: unknown, amountSat: bigint | null): AmountJitterRequest | null {
  if (value === undefined || value === null) return null;
  if (amountSat === null)
    fail('amount_jitter goes with one payment: a send of several outputs pays them exactly', {
      field: 'amount_jitter',
    });
  const item = readBody(value, JITTER_FIELDS, 'amount_jitter');
  const bound = (field: (typeof JITTER_FIELDS)[number]) => {
    const v = item(field);
    return v === undefined ? amountSat : amount(v, `amount_jitter.${field}`);
  };
  const minSat = bound('min_amount_sat');
  const maxSat = bound('max_amount_sat');
  if (minSat > amountSat || maxSat < amountSat)
    fail('amount_jitter: min_amount_sat ≤ amount_sat ≤ max_amount_sat', {
      field: minSat > amountSat ? 'amount_jitter.min_amount_sat' : 'amount_jitter.max_amount_sat',
    });
  if (minSat === maxSat)
    fail('amount_jitter asks for jitter but allows no other amount: give max_amount_sat or min_amount_sat', {
      field: 'amount_jitter',
    });
  return { minSat, maxSat };
}

export function parseSendRequest(body: unknown): SendRequest {
  return parseHostile(() => {
    const get = readBody(body, SEND_FIELDS);
    const single = get('to') !== undefined || get('amount_sat') !== undefined;
    const list = get('outputs');
    if (single === (list !== undefined))
      fail('give either to and amount_sat, or outputs', { field: single ? 'outputs' : 'to' });
    let outputs: SendOutput[];
    if (single) {
      outputs = [{ to: address(get('to'), 'to'), amountSat: amount(get('amount_sat'), 'amount_sat') }];
    } else {
      if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SEND_OUTPUTS)
        fail(`outputs is a list of 1 to ${MAX_SEND_OUTPUTS} { to, amount_sat }`, { field: 'outputs' });
      outputs = list.map((o, i) => {
        const field = `outputs[${i}]`;
        const item = readBody(o, ['to', 'amount_sat'] as const, field);
        return {
          to: address(item('to'), `${field}.to`),
          amountSat: amount(item('amount_sat'), `${field}.amount_sat`),
        };
      });
    }
    return {
      outputs,
      jitter: jitterRange(get('amount_jitter'), outputs.length === 1 ? outputs[0]!.amountSat : null),
      feeRateMsatPerVb: parseFeeRate(get('feerate')),
      idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')),
    };
  });
}
