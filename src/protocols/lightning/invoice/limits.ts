/** Warden's invoices are short-lived: ten minutes unless asked (at most a day: pay-checks.ts). */
export const DEFAULT_INVOICE_EXPIRY_SECONDS = 600;
export { MAX_DESCRIPTION_BYTES, MAX_INVOICE_EXPIRY_SECONDS } from '../backend/pay-checks.ts';
