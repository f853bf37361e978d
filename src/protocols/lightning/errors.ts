/**
 * Lightning's own codes: what a payer refuses before anything is paid, and what a Lightning
 * backend (lnd, Core Lightning, an NWC wallet) says that the protocol-neutral BACKEND_* codes do
 * not (src/core/errors.ts: BACKEND_UNREACHABLE, BACKEND_REJECTED, OUTCOME_UNKNOWN, which the
 * backends raise with `details.protocol: 'lightning'`).
 */
import type { ErrorCodeDeclaration } from '../module.ts';

export const LIGHTNING_ERROR_CODES = {
  INVALID_INVOICE: {
    httpStatus: 400,
    meaning: 'a Lightning invoice a payer must refuse (BOLT 11); `details.reason` says why',
  },
  LIGHTNING_BACKEND_AUTH: {
    httpStatus: 502,
    meaning:
      'the Lightning backend refused the credential Warden holds for the identity (macaroon, rune): nothing was done; `details.message` is the backend’s reason',
  },
  LIGHTNING_PAYMENT_FAILED: {
    httpStatus: 502,
    meaning:
      'the backend tried and the payment failed for good (no route, the payee refused it, a timeout before any HTLC was out): nothing was paid, the reservation is released',
  },
  LIGHTNING_PAYMENT_EXISTS: {
    httpStatus: 409,
    meaning:
      'this invoice’s payment hash was already paid or is in flight, through Warden or on the backend (`details.reason`: `already_paid`, `in_flight` or `exists`): it is not paid again, whatever the idempotency key; follow the one there is',
  },
  LIGHTNING_INVOICE_UNKNOWN: {
    httpStatus: 404,
    meaning:
      'no invoice of this payment hash was made by the asking identity through Warden (whether another identity made one, or the node has one, is not said)',
  },
  LIGHTNING_NOT_SUPPORTED: {
    httpStatus: 501,
    meaning:
      'the configured Lightning backend cannot do this (`details.backend` names it, `details.feature` the missing part): nothing was done',
  },
} as const satisfies Record<string, ErrorCodeDeclaration>;

type LightningErrorCodes = Record<keyof typeof LIGHTNING_ERROR_CODES, ErrorCodeDeclaration>;

declare module '../../core/errors.ts' {
  interface ProtocolErrorCodes extends LightningErrorCodes {}
}
