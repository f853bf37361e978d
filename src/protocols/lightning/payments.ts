/**
 * The payment hashes Warden handed to a backend (table lightning_payment): a hash is paid once.
 * A request claims its hash in the store transaction that records it before the payment leaves;
 * a hash whose earlier payment certainly failed may be claimed again, one pending or paid never.
 */
import { WardenError } from '../../core/errors.ts';
import type { LightningDb, LightningPaymentTable } from './tables.ts';

export function paymentExists(status: LightningPaymentTable['status'], paymentHash: string): WardenError {
  return new WardenError(
    'LIGHTNING_PAYMENT_EXISTS',
    status === 'succeeded'
      ? 'this invoice was already paid through Warden; it is not paid again'
      : 'a payment of this invoice is in flight through Warden; it is not paid twice',
    { protocol: 'lightning', reason: status === 'succeeded' ? 'already_paid' : 'in_flight', paymentHash },
  );
}

/** Refuses a hash already paid or in flight (a request's early check; `claim` is the one that counts). */
export async function refuseKnown(tables: LightningDb, paymentHash: string): Promise<void> {
  const row = await tables
    .selectFrom('lightning_payment')
    .select('status')
    .where('payment_hash', '=', paymentHash)
    .executeTakeFirst();
  if (row && row.status !== 'failed') throw paymentExists(row.status, paymentHash);
}

/** Claims the hash for `requestId`, or throws LIGHTNING_PAYMENT_EXISTS; inside the caller's transaction. */
export async function claim(
  tables: LightningDb,
  paymentHash: string,
  identity: string,
  requestId: string,
  at: string,
): Promise<void> {
  await tables
    .insertInto('lightning_payment')
    .values({ payment_hash: paymentHash, identity, request_id: requestId, status: 'pending', updated_at: at })
    .onConflict((oc) =>
      oc
        .column('payment_hash')
        .doUpdateSet({ identity, request_id: requestId, status: 'pending', updated_at: at })
        .where('lightning_payment.status', '=', 'failed'),
    )
    .execute();
  const row = await tables
    .selectFrom('lightning_payment')
    .select(['request_id', 'status'])
    .where('payment_hash', '=', paymentHash)
    .executeTakeFirstOrThrow();
  if (row.request_id !== requestId) throw paymentExists(row.status, paymentHash);
}

/** The end of a claimed payment, known: only the claiming request's row moves, only from pending. */
export async function settleClaim(
  tables: LightningDb,
  requestId: string,
  status: 'succeeded' | 'failed',
  at: string,
): Promise<void> {
  await tables
    .updateTable('lightning_payment')
    .set({ status, updated_at: at })
    .where('request_id', '=', requestId)
    .where('status', '=', 'pending')
    .execute();
}
