import type { ProtocolModule } from '../module.ts';
import { type LightningModuleBackend, lightningBackendOf } from './backend/connect.ts';
import { LIGHTNING_ERROR_CODES } from './errors.ts';
import { LIGHTNING_MIGRATIONS } from './migrations.ts';
import { lightningMonitor } from './monitor/hook.ts';
import { payInvoiceOperation } from './pay/operation.ts';
import { lightningReconcile } from './pay/reconcile.ts';
import type { LightningDb } from './tables.ts';

/**
 * Lightning: paying BOLT 11 invoices through the backend of `protocols.lightning` (lnd's REST API or
 * Core Lightning's clnrest), with the identity's sealed macaroon or rune lent to each payment. Nothing is offered without a backend.
 */
export const lightningModule: ProtocolModule<LightningModuleBackend, LightningDb> = {
  name: 'lightning',
  operations: [payInvoiceOperation],
  needsBackend: [payInvoiceOperation.name],
  migrations: LIGHTNING_MIGRATIONS,
  backend: lightningBackendOf,
  reconcile: lightningReconcile,
  errorCodes: LIGHTNING_ERROR_CODES,
  monitor: lightningMonitor,
};
