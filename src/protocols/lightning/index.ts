import type { ProtocolModule } from '../module.ts';
import { type LightningModuleBackend, lightningBackendOf } from './backend/connect.ts';
import { lightningBalanceOperation } from './balance.ts';
import { LIGHTNING_ERROR_CODES } from './errors.ts';
import { lookupInvoiceOperation } from './invoice/lookup.ts';
import { makeInvoiceOperation } from './invoice/make.ts';
import { keysendOperation } from './keysend/operation.ts';
import { LIGHTNING_MIGRATIONS } from './migrations.ts';
import { lightningMonitor } from './monitor/hook.ts';
import { payInvoiceOperation } from './pay/operation.ts';
import { lightningReconcile } from './pay/reconcile.ts';
import type { LightningDb } from './tables.ts';

/** Every one of them needs the backend: without one, none is offered. */
const OPERATIONS = [
  payInvoiceOperation,
  keysendOperation,
  makeInvoiceOperation,
  lookupInvoiceOperation,
  lightningBalanceOperation,
];

/**
 * Lightning: paying BOLT 11 invoices and nodes by keysend, making and looking invoices up, the
 * node's balance, through the backend of `protocols.lightning` (lnd's REST API or Core Lightning's
 * clnrest), with the identity's sealed macaroon or rune lent to each call.
 */
export const lightningModule: ProtocolModule<LightningModuleBackend, LightningDb> = {
  name: 'lightning',
  operations: OPERATIONS,
  needsBackend: OPERATIONS.map((o) => o.name),
  migrations: LIGHTNING_MIGRATIONS,
  backend: lightningBackendOf,
  reconcile: lightningReconcile,
  errorCodes: LIGHTNING_ERROR_CODES,
  monitor: lightningMonitor,
};
