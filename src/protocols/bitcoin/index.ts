import type { ProtocolModule } from '../module.ts';
import { type BitcoinBackend, bitcoinBackendOf } from './backend.ts';
import { balanceOperation } from './balance.ts';
import { BITCOIN_ERROR_CODES } from './errors.ts';
import { BITCOIN_MIGRATIONS } from './migrations.ts';
import { createMultisig, listMultisig, showMultisig } from './multisig/admin.ts';
import { newAddressOperation } from './new-address.ts';
import { sendOperation } from './send/operation.ts';
import { bitcoinReconcile } from './send/reconcile.ts';
import { signPsbtOperation } from './sign-psbt/operation.ts';
import type { BitcoinDb } from './tables.ts';

/**
 * Bitcoin: PSBT signing with the identity's single-key accounts and its registered 2-of-3 wallets
 * (Warden's one signature of two), fresh receive addresses, and, with a node configured
 * (`protocols.bitcoin.nodes`), the balance and sends from the identity's own coins.
 */

export const bitcoinModule: ProtocolModule<BitcoinBackend, BitcoinDb> = {
  name: 'bitcoin',
  operations: [signPsbtOperation, sendOperation, newAddressOperation, balanceOperation],
  // Addresses derive from the identity's keys alone; the balance and a send read the chain.
  needsBackend: [sendOperation.name, balanceOperation.name],
  migrations: BITCOIN_MIGRATIONS,
  backend: bitcoinBackendOf,
  reconcile: bitcoinReconcile,
  admin: [createMultisig, listMultisig, showMultisig],
  quantityFacets: ['max_fee', 'max_fee_rate', 'fee_rate_msat_vb', 'fee_estimate_msat_vb'],
  errorCodes: BITCOIN_ERROR_CODES,
};
