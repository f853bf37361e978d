/**
 * The one error class of Warden. `code` is stable and machine-readable; front doors map it to
 * their protocol (exit code, HTTP status, JSON-RPC error). Messages and details must never hold
 * secrets: they are shown to callers and written to logs.
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
  'ACCEPTANCE_EXPIRED',
  'INTERNAL',
  'INVALID_REQUEST',
  'INVALID_ADDRESS',
  'INVALID_AMOUNT',
  'CHAIN_MISMATCH',
  'RPC_ERROR',
  'RPC_UNREACHABLE',
  'RECEIPT_TIMEOUT',
  'NET_URL_REFUSED',
  'NET_UNREACHABLE',
  'POLICY_INVALID',
  'CONFIG_INVALID',
  'MISDIRECTED_REQUEST',
  'ORIGIN_NOT_ALLOWED',
  'PORT_IN_USE',
  'ALREADY_RUNNING',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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
