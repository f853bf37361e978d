import type { ErrorCode } from '../../core/errors.ts';

/** HTTP status per error code. Anything not listed is a server error (and logged as such). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  INVALID_JSON: 400,
  INVALID_EVENT: 400,
  INVALID_ADDRESS: 400,
  INVALID_AMOUNT: 400,
  INVALID_ARGUMENT: 400,
  INVALID_NAME: 400,
  CHAIN_NOT_ALLOWED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  POLICY_DENIED: 403,
  NO_MATCHING_RULE: 403,
  LIMIT_EXCEEDED: 403,
  DESTINATION_DENIED: 403,
  RISK_TOO_HIGH: 403,
  NOT_FOUND: 404,
  IDENTITY_NOT_FOUND: 404,
  IDEMPOTENCY_CONFLICT: 409,
  REQUEST_NOT_PENDING: 409,
  APPROVAL_MISMATCH: 409,
  KEY_NOT_ACTIVE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  RPC_ERROR: 502,
  RPC_UNREACHABLE: 502,
  CHAIN_MISMATCH: 502,
  BROADCAST_FAILED: 502,
  SIGNING_FAILED: 500,
  VAULT_SEALED: 503,
  // The keystore became unreadable under a running server: unavailable, as health says.
  KEYSTORE_CORRUPT: 503,
};

export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}
