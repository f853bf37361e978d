/**
 * The one error class of Warden. `code` is stable and machine-readable; front doors map it to
 * their protocol (exit code, HTTP status, JSON-RPC error). Messages and details must never hold
 * secrets: they are shown to callers and written to logs.
 *
 * Backend errors (a protocol's node, relay or service) are protocol-neutral:
 * - `BACKEND_UNREACHABLE`: the backend could not be reached or did not answer in time; nothing it
 *   would have done is known to have happened (a read, a check before sending).
 * - `BACKEND_REJECTED`: the backend answered, with an error or an answer that is not acceptable
 *   (malformed, too large, another chain's data).
 * - `OUTCOME_UNKNOWN`: a call that acts (a broadcast, a payment) failed in a way that does not say
 *   whether it acted: it may have. Its request stays `unknown` and keeps counting until reconciled.
 * Their details always name `protocol` (`evm`, …) and carry the backend's own words: `method`,
 * `reason` (`timeout`, `connect`, `malformed`, `too_large`, …), and for EVM JSON-RPC `rpcCode`,
 * `rpcMessage` (sanitized), `httpStatus`; OUTCOME_UNKNOWN also names `backendCode`, the
 * BACKEND_* error that left the outcome open.
 *
 * Deprecated aliases, for one release (until 0.3): `RPC_ERROR` and `RPC_UNREACHABLE` were the EVM
 * JSON-RPC client's codes before the neutral ones. They are no longer raised. An error that
 * replaced one of them says so in `details.legacyCode` (`RPC_ERROR` for BACKEND_REJECTED,
 * `RPC_UNREACHABLE` for BACKEND_UNREACHABLE, and for OUTCOME_UNKNOWN whichever it would have been),
 * so a caller matching on the old code can switch to `details.legacyCode` first and to the new code
 * after. They stay in this list because request rows and audit records written by earlier versions
 * hold them, and those must still read back as known codes (with their old HTTP status).
 *
 * The net layer (src/net/), before the backend's own codes: `details.sent: false` says nothing of
 * the request left this machine.
 * - `TOR_UNAVAILABLE`: the backend's route is Tor and Tor's SOCKS port does not answer (or will
 *   not talk SOCKS5 with credentials); nothing is ever sent directly instead.
 * - `NET_DNS_REFUSED`: a name lookup on this machine was attempted on a Tor route (a leak guard).
 * - `NET_PIN_MISMATCH`: the server's public key is not the SPKI pin configured for it.
 */
export const ERROR_CODES = [
  'VAULT_BAD_PASSPHRASE',
  'VAULT_SEALED',
  'VAULT_EXISTS',
  'VAULT_NOT_INITIALIZED',
  'VAULT_LOCKED',
  'KEYSTORE_CORRUPT',
  'KEYSTORE_WRITE_FAILED',
  'PASSPHRASE_REQUIRED',
  'PASSPHRASE_TOO_WEAK',
  'PASSPHRASE_MISMATCH',
  'FILE_PERMISSIONS_TOO_OPEN',
  'FILE_NOT_FOUND',
  'FILE_TOO_LARGE',
  'HOME_INSECURE',
  'IDENTITY_EXISTS',
  'IDENTITY_NOT_FOUND',
  'INVALID_NAME',
  'INVALID_MNEMONIC',
  'INVALID_NSEC',
  'INVALID_ARGUMENT',
  'KEY_NOT_ACTIVE',
  'BACKUP_CORRUPT',
  'BACKUP_BAD_PASSPHRASE',
  'AUDIT_APPEND_FAILED',
  'AUDIT_CHAIN_BROKEN',
  'CONTROL_PLANE_TAMPERED',
  'STORE_ERROR',
  'USAGE',
  'INVALID_EVENT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'NOT_FOUND',
  'IDEMPOTENCY_CONFLICT',
  'LIMIT_EXCEEDED',
  'LIMIT_UNMEASURABLE',
  'POLICY_DENIED',
  'NO_MATCHING_RULE',
  'DESTINATION_DENIED',
  'RISK_TOO_HIGH',
  'REQUEST_NOT_PENDING',
  'APPROVAL_MISMATCH',
  'TOKEN_INVALID',
  'BIND_REFUSED',
  'SIGNING_FAILED',
  'BROADCAST_FAILED',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'CHAIN_NOT_ALLOWED',
  'REQUEST_VETOED',
  'HOLD_EXPIRED',
  'RECONCILED_NOT_EXECUTED',
  /** On a request row: the process executing it is gone (killed); its outcome is unknown until reconciled. */
  'EXECUTOR_GONE',
  'ACCEPTANCE_EXPIRED',
  'INTERNAL',
  'INVALID_REQUEST',
  'INVALID_ADDRESS',
  'INVALID_AMOUNT',
  'CHAIN_MISMATCH',
  'BACKEND_UNREACHABLE',
  'BACKEND_REJECTED',
  'OUTCOME_UNKNOWN',
  /** @deprecated alias of BACKEND_REJECTED (EVM JSON-RPC), no longer raised; see above. */
  'RPC_ERROR',
  /** @deprecated alias of BACKEND_UNREACHABLE (EVM JSON-RPC), no longer raised; see above. */
  'RPC_UNREACHABLE',
  'RECEIPT_TIMEOUT',
  'NET_URL_REFUSED',
  'NET_UNREACHABLE',
  'NET_DNS_REFUSED',
  'NET_PIN_MISMATCH',
  'TOR_UNAVAILABLE',
  'POLICY_INVALID',
  'CONFIG_INVALID',
  'MISDIRECTED_REQUEST',
  /** The endpoint exists but not for this HTTP method (GET or DELETE on /mcp). */
  'METHOD_NOT_ALLOWED',
  'ORIGIN_NOT_ALLOWED',
  'PORT_IN_USE',
  'ALREADY_RUNNING',
] as const;

/** The protocol-neutral codes above. */
export type CoreErrorCode = (typeof ERROR_CODES)[number];

/**
 * The codes protocol modules declare (a PSBT's `FEE_TOO_HIGH`, an invoice's `INVALID_INVOICE`):
 * each module adds its own here by declaration merging, in its `errors.ts`, next to the runtime
 * table (HTTP status, meaning) it registers as `errorCodes` (protocols/registry.ts checks that no
 * two modules, and no module and core, declare the same code).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the protocol modules' declarations
export interface ProtocolErrorCodes {}

export type ErrorCode = CoreErrorCode | keyof ProtocolErrorCodes;

/** The protocol-neutral codes of a backend's failures (see above). */
export const BACKEND_ERROR_CODES = ['BACKEND_UNREACHABLE', 'BACKEND_REJECTED', 'OUTCOME_UNKNOWN'] as const;
export type BackendErrorCode = (typeof BACKEND_ERROR_CODES)[number];

/**
 * The deprecated code each neutral one replaced, for `details.legacyCode` (until 0.3). Before the
 * neutral codes, the one backend was EVM JSON-RPC, so the mapping holds for every error raised
 * under those codes. OUTCOME_UNKNOWN replaced either, so its raiser names it.
 */
export const LEGACY_BACKEND_CODES: Readonly<Partial<Record<ErrorCode, ErrorCode>>> = {
  BACKEND_REJECTED: 'RPC_ERROR',
  BACKEND_UNREACHABLE: 'RPC_UNREACHABLE',
};

export type ErrorDetails = Record<string, string | number | boolean | null | undefined>;

export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WardenError';
    this.code = code;
    this.details = details;
  }
}

export function isWardenError(err: unknown, code?: ErrorCode): err is WardenError {
  return err instanceof WardenError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a WardenError without copying its message (it may hold secrets). */
export function asWardenError(err: unknown, fallback: ErrorCode = 'INTERNAL'): WardenError {
  if (err instanceof WardenError) return err;
  return new WardenError(fallback, 'unexpected internal error', {}, { cause: err });
}
