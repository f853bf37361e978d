import { isAddress } from 'viem';
import { type ErrorDetails, WardenError } from '../../core/errors.ts';
import {
  BASE_UNITS_PATTERN,
  IDEMPOTENCY_KEY_SCHEMA,
  MAX_BASE_UNITS,
  optionalIdempotencyKey,
  parseBaseUnits,
  parseHostile,
  positiveInteger,
  readBody,
  requireFields,
  shownValue as shown,
} from '../../core/validate.ts';

/**
 * Parsing of the hostile JSON body of `POST /v1/evm/send`:
 *
 *   { chainId, to, value, maxFeePerGas?, maxPriorityFeePerGas?, idempotencyKey? }
 *
 * Everything is checked and nothing is guessed: amounts are decimal strings of wei (a JSON number is
 * INVALID_AMOUNT, see parseBaseUnits); unknown fields, wrong types and odd spellings are refused with a WardenError (INVALID_REQUEST, INVALID_ADDRESS or INVALID_AMOUNT) that names the field.
 * Optional fields may be absent or null. Nothing but a WardenError is ever thrown.
 */
export interface EvmSendRequest {
  chainId: number;
  /** Lower-case 0x address; its checksum (if mixed case) was verified. Never the zero address. */
  to: `0x${string}`;
  /** Wei, > 0. */
  value: bigint;
  /** Wei per gas, or null to use the node's estimate. */
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  idempotencyKey: string | null;
}

export const MAX_UINT256 = MAX_BASE_UNITS;
const FIELDS = ['chainId', 'to', 'value', 'maxFeePerGas', 'maxPriorityFeePerGas', 'idempotencyKey'] as const;
const ZERO_ADDRESS = `0x${'0'.repeat(40)}`;

function fail(
  code: 'INVALID_REQUEST' | 'INVALID_ADDRESS' | 'INVALID_AMOUNT',
  message: string,
  details: ErrorDetails,
): never {
  throw new WardenError(code, message, details);
}

/** Accepts `0x` + 40 hex digits: all lower, all upper, or mixed case with a valid EIP-55 checksum. */
export function parseEvmAddress(value: unknown, field = 'to'): `0x${string}` {
  if (typeof value !== 'string')
    fail('INVALID_ADDRESS', `${field} must be a string`, { field, type: typeof value });
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
    fail('INVALID_ADDRESS', `${field} must be 0x followed by 40 hex digits (20 bytes)`, {
      field,
      value: shown(value),
    });
  }
  const digits = value.slice(2);
  const uniformCase = digits === digits.toLowerCase() || digits === digits.toUpperCase();
  if (!uniformCase && !isAddress(value, { strict: true })) {
    fail('INVALID_ADDRESS', `${field} has a wrong EIP-55 checksum (mixed case must match it exactly)`, {
      field,
      value: shown(value),
      // The right checksum is not shown: a caller that copied it back would defeat its purpose.
    });
  }
  const lower = `0x${digits.toLowerCase()}` as const;
  if (lower === ZERO_ADDRESS) fail('INVALID_ADDRESS', `${field} is the zero address`, { field });
  return lower;
}

function optionalFee(value: unknown, field: string): bigint | null {
  return value === undefined || value === null ? null : parseBaseUnits(value, field, MAX_UINT256);
}

export function parseEvmSendRequest(body: unknown): EvmSendRequest {
  return parseHostile(() => parseBody(body));
}

function parseBody(body: unknown): EvmSendRequest {
  const get = readBody(body, FIELDS);
  requireFields(get, ['chainId', 'to', 'value']);
  const chainId = positiveInteger(get('chainId'), 'chainId');
  const to = parseEvmAddress(get('to'), 'to');
  const value = parseBaseUnits(get('value'), 'value', MAX_UINT256);
  if (value === 0n) fail('INVALID_AMOUNT', 'value is zero: nothing to send', { field: 'value' });
  const maxFeePerGas = optionalFee(get('maxFeePerGas'), 'maxFeePerGas');
  const maxPriorityFeePerGas = optionalFee(get('maxPriorityFeePerGas'), 'maxPriorityFeePerGas');
  if (maxFeePerGas === 0n) fail('INVALID_AMOUNT', 'maxFeePerGas is zero', { field: 'maxFeePerGas' });
  if (maxFeePerGas !== null && maxPriorityFeePerGas !== null && maxPriorityFeePerGas > maxFeePerGas) {
    fail('INVALID_AMOUNT', 'maxPriorityFeePerGas is above maxFeePerGas', { field: 'maxPriorityFeePerGas' });
  }
  return {
    chainId,
    to,
    value,
    maxFeePerGas,
    maxPriorityFeePerGas,
    idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')),
  };
}

const WEI = {
  type: 'string',
  pattern: BASE_UNITS_PATTERN.source,
  description: 'wei, as decimal digits',
} as const;

/** The body of `POST /v1/evm/send` as JSON Schema: what the parser above accepts. */
export const EVM_SEND_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['chainId', 'to', 'value'],
  properties: {
    chainId: { type: 'integer', minimum: 1, description: 'a chain with a node configured' },
    to: {
      type: 'string',
      pattern: '^0x[0-9a-fA-F]{40}$',
      description: 'recipient; mixed case must carry a valid EIP-55 checksum; never the zero address',
    },
    value: { ...WEI, description: 'wei to send, more than 0' },
    maxFeePerGas: {
      oneOf: [WEI, { type: 'null' }],
      description: "wei per gas; the node's estimate when absent",
    },
    maxPriorityFeePerGas: {
      oneOf: [WEI, { type: 'null' }],
      description: 'wei per gas, at most maxFeePerGas',
    },
    idempotencyKey: IDEMPOTENCY_KEY_SCHEMA,
  },
} as const;

/** What a done send returns. */
export const EVM_SEND_RESULT_SCHEMA = {
  type: 'object',
  required: ['txHash', 'nonce', 'chainId', 'from'],
  properties: {
    txHash: { type: 'string', pattern: '^0x[0-9a-f]{64}$' },
    nonce: { type: 'integer', minimum: 0 },
    chainId: { type: 'integer' },
    from: { type: 'string', description: 'EIP-55 address that signed' },
  },
} as const;
