/** Warden's invoices are short-lived: ten minutes unless asked, at most a day. */
export const DEFAULT_INVOICE_EXPIRY_SECONDS = 600;
export const MAX_INVOICE_EXPIRY_SECONDS = 86_400;
/** BOLT 11: a description fits in 639 bytes (1023 five-bit words). */
export const MAX_DESCRIPTION_BYTES = 639;
