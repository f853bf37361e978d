/**
 * The hostile JSON body of `POST /v1/lightning/keysend`:
 *
 *   { destination: "02…" (a node id: 33-byte compressed key, lower-case hex), amount_msat: "21000",
 *     fee_limit_sat?: "10", idempotencyKey?: string }
 *
 * The destination must be a point on secp256k1 (a typo is refused, not paid into the void).
 * Amounts are decimal strings (core/validate.ts).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { WardenError } from '../../../core/errors.ts';
import {
  jsonType,
  optionalIdempotencyKey,
  parseHostile,
  readBody,
  requireFields,
} from '../../../core/validate.ts';
import { parseAmountMsat, parseFeeLimitSat } from '../amounts.ts';

export const KEYSEND_FIELDS = ['destination', 'amount_msat', 'fee_limit_sat', 'idempotencyKey'] as const;

export interface KeysendRequest {
  destination: string;
  amountMsat: bigint;
  /** null: the default (pay/fee-limit.ts). */
  feeLimitSat: bigint | null;
  idempotencyKey: string | null;
}

function isNodeId(value: string): boolean {
  if (!/^0[23][0-9a-f]{64}$/.test(value)) return false;
  try {
    secp256k1.Point.fromHex(value);
    return true;
  } catch {
    return false;
  }
}

export function parseKeysendRequest(body: unknown): KeysendRequest {
  return parseHostile(() => {
    const get = readBody(body, KEYSEND_FIELDS);
    requireFields(get, ['destination', 'amount_msat']);
    const destination = get('destination');
    if (typeof destination !== 'string' || !isNodeId(destination))
      throw new WardenError(
        'INVALID_ADDRESS',
        'destination must be a Lightning node id: a compressed secp256k1 key, 66 lower-case hex digits',
        { field: 'destination', type: jsonType(destination) },
      );
    return {
      destination,
      amountMsat: parseAmountMsat(get('amount_msat')),
      feeLimitSat: parseFeeLimitSat(get('fee_limit_sat')),
      idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')),
    };
  });
}
