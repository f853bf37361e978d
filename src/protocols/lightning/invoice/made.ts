/**
 * The invoices identities made through Warden (table lightning_invoice). A lookup is answered only
 * for an invoice of the asking identity: lnd holds every identity's invoices on a shared node, and
 * an agent must not learn what another was paid, nor whether a hash is an invoice at all. Unknown
 * and another's answer the same.
 */
import { WardenError } from '../../../core/errors.ts';
import type { LightningDb, LightningInvoiceTable } from '../tables.ts';

export async function recordInvoice(tables: LightningDb, row: LightningInvoiceTable): Promise<void> {
  await tables.insertInto('lightning_invoice').values(row).execute();
}

export async function ownInvoice(
  tables: LightningDb,
  identity: string,
  paymentHash: string,
): Promise<LightningInvoiceTable> {
  const row = await tables
    .selectFrom('lightning_invoice')
    .selectAll()
    .where('payment_hash', '=', paymentHash)
    .where('identity', '=', identity)
    .executeTakeFirst();
  if (!row)
    throw new WardenError(
      'LIGHTNING_INVOICE_UNKNOWN',
      'no invoice of this payment hash was made by this identity through Warden',
      { protocol: 'lightning', paymentHash },
    );
  return row;
}
