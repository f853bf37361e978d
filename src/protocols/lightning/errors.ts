/** Lightning's own codes: what a payer refuses before anything is paid. */
import type { ErrorCodeDeclaration } from '../module.ts';

export const LIGHTNING_ERROR_CODES = {
  INVALID_INVOICE: {
    httpStatus: 400,
    meaning: 'a Lightning invoice a payer must refuse (BOLT 11); `details.reason` says why',
  },
} as const satisfies Record<string, ErrorCodeDeclaration>;

type LightningErrorCodes = Record<keyof typeof LIGHTNING_ERROR_CODES, ErrorCodeDeclaration>;

declare module '../../core/errors.ts' {
  interface ProtocolErrorCodes extends LightningErrorCodes {}
}
