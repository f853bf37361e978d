import { type ErrorCode, LEGACY_BACKEND_CODES } from '../../core/errors.ts';
import { moduleErrorCode } from '../../protocols/registry.ts';

/**
 * HTTP status per core error code; a protocol module's codes carry their own (registry). Anything
 * not listed is a server error (and logged as such).
 */
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
  ORIGIN_NOT_ALLOWED: 403,
  POLICY_DENIED: 403,
  NO_MATCHING_RULE: 403,
  LIMIT_EXCEEDED: 403,
  LIMIT_UNMEASURABLE: 403,
  DESTINATION_DENIED: 403,
  RISK_TOO_HIGH: 403,
  NOT_FOUND: 404,
  IDENTITY_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_CONFLICT: 409,
  REQUEST_NOT_PENDING: 409,
  APPROVAL_MISMATCH: 409,
  TOKEN_INVALID: 409,
  ACCEPTANCE_EXPIRED: 409,
  KEY_NOT_ACTIVE: 409,
  // A control-plane row (a registered multisig wallet) fails its MAC: the request is refused as
  // the server's state stands, until an operator looks; not a server fault.
  CONTROL_PLANE_TAMPERED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  MISDIRECTED_REQUEST: 421,
  RATE_LIMITED: 429,
  // A backend (an EVM node, …) failed: Bad Gateway, whichever way (the status RPC_* had).
  BACKEND_UNREACHABLE: 502,
  BACKEND_REJECTED: 502,
  OUTCOME_UNKNOWN: 502,
  // Deprecated aliases (core/errors.ts): still the status of requests recorded under them.
  RPC_ERROR: 502,
  RPC_UNREACHABLE: 502,
  CHAIN_MISMATCH: 502,
  // The net layer refused the backend's route: Bad Gateway; Tor down is Unavailable.
  NET_PIN_MISMATCH: 502,
  NET_DNS_REFUSED: 502,
  TOR_UNAVAILABLE: 503,
  BROADCAST_FAILED: 502,
  SIGNING_FAILED: 500,
  VAULT_SEALED: 503,
  // The keystore became unreadable under a running server: unavailable, as health says.
  KEYSTORE_CORRUPT: 503,
};

export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code] ?? moduleErrorCode(code)?.httpStatus ?? 500;
}

/**
 * `details.legacyCode` of an error body, until 0.3: the deprecated code a neutral backend code
 * replaced (core/errors.ts), unless the error already names one. A failed request's body is built
 * from its stored code alone, so this is where it gets its legacy code.
 */
export function withLegacyCode<D extends Record<string, unknown>>(code: string, details: D): D {
  if (details.legacyCode !== undefined) return details;
  const legacy = LEGACY_BACKEND_CODES[code as ErrorCode];
  return legacy ? { ...details, legacyCode: legacy } : details;
}
