/**
 * Warden's codes in NIP-47's words. A request refused by the path (policy, budgets, rate limits,
 * validation) and a payment that failed each get the NIP-47 code a client can act on; the message
 * keeps Warden's code, so an operator reading the client's log can find the audit record.
 */
export type Nip47Code =
  | 'RATE_LIMITED'
  | 'NOT_IMPLEMENTED'
  | 'INSUFFICIENT_BALANCE'
  | 'QUOTA_EXCEEDED'
  | 'RESTRICTED'
  | 'UNAUTHORIZED'
  | 'INTERNAL'
  | 'OTHER'
  | 'PAYMENT_FAILED'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_ENCRYPTION';

const BY_CODE: Readonly<Record<string, Nip47Code>> = {
  RATE_LIMITED: 'RATE_LIMITED',
  LIMIT_EXCEEDED: 'QUOTA_EXCEEDED',
  POLICY_DENIED: 'RESTRICTED',
  NO_MATCHING_RULE: 'RESTRICTED',
  DESTINATION_DENIED: 'RESTRICTED',
  DESTINATION_NOT_ALLOWED: 'RESTRICTED',
  RISK_TOO_HIGH: 'RESTRICTED',
  LIMIT_UNMEASURABLE: 'RESTRICTED',
  FORBIDDEN: 'RESTRICTED',
  HOLD_VETOED: 'RESTRICTED',
  HOLD_EXPIRED: 'RESTRICTED',
  TOKEN_INVALID: 'UNAUTHORIZED',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  LIGHTNING_PAYMENT_FAILED: 'PAYMENT_FAILED',
  LIGHTNING_PAYMENT_EXISTS: 'PAYMENT_FAILED',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_BALANCE',
  LIGHTNING_NOT_SUPPORTED: 'NOT_IMPLEMENTED',
  // Not this connection's identity's invoice (or none): the same answer either way.
  LIGHTNING_INVOICE_UNKNOWN: 'NOT_FOUND',
  INVALID_ADDRESS: 'OTHER',
  INVALID_INVOICE: 'OTHER',
  INVALID_REQUEST: 'OTHER',
  INVALID_AMOUNT: 'OTHER',
  INVALID_ARGUMENT: 'OTHER',
  OUTCOME_UNKNOWN: 'OTHER',
  BACKEND_UNREACHABLE: 'INTERNAL',
  BACKEND_REJECTED: 'INTERNAL',
  VAULT_SEALED: 'INTERNAL',
};

export function nip47CodeOf(code: string, method: string): Nip47Code {
  // An operation this server does not offer (no Lightning backend) is NOT_FOUND to the gateway.
  if (code === 'NOT_FOUND') return method === 'lookup_invoice' ? 'NOT_FOUND' : 'NOT_IMPLEMENTED';
  return BY_CODE[code] ?? 'INTERNAL';
}

export class Nip47Error extends Error {
  constructor(
    readonly code: Nip47Code,
    message: string,
  ) {
    super(message);
  }
}
