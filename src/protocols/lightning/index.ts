import type { ProtocolModule } from '../module.ts';
import { type LightningModuleBackend, lightningBackendOf } from './backend/connect.ts';
import { lightningBalanceOperation } from './balance.ts';
import { LIGHTNING_ERROR_CODES } from './errors.ts';
import { makeInvoiceOperation } from './invoice/make.ts';
import { LIGHTNING_MIGRATIONS } from './migrations.ts';
import { payInvoiceOperation } from './pay/operation.ts';
import { lightningReconcile } from './pay/reconcile.ts';
import type { LightningDb } from './tables.ts';

/**
 * Lightning: paying BOLT 11 invoices and making them, through the backend of `protocols.lightning`
 * (lnd's REST API), with the identity's sealed macaroon lent to each call. Nothing is offered
 * without a backend.
 */
export const lightningModule: ProtocolModule<LightningModuleBackend, LightningDb> = {
  name: 'lightning',
  operations: [payInvoiceOperation, makeInvoiceOperation, lightningBalanceOperation],
  needsBackend: [payInvoiceOperation.name, makeInvoiceOperation.name, lightningBalanceOperation.name],
  migrations: LIGHTNING_MIGRATIONS,
  backend: lightningBackendOf,
  reconcile: lightningReconcile,
  errorCodes: LIGHTNING_ERROR_CODES,
};
