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
 * (Warden's one signature of two). The wallet operations on a configured node (fresh addresses,
 * the balance, sends from the identity's own coins: WALLET_OPERATIONS) are built and tested against
 * a real node (test/protocols/bitcoin/send-regtest.test.ts) but not yet offered: they join the
 * registry once the registry-wide conformance suite (test/protocols/conformance.test.ts) has their
 * samples.
 */
export const WALLET_OPERATIONS = [sendOperation, newAddressOperation, balanceOperation] as const;

export const bitcoinModule: ProtocolModule<BitcoinBackend, BitcoinDb> = {
  name: 'bitcoin',
  operations: [signPsbtOperation],
  migrations: BITCOIN_MIGRATIONS,
  backend: bitcoinBackendOf,
  reconcile: bitcoinReconcile,
  admin: [createMultisig, listMultisig, showMultisig],
  quantityFacets: ['max_fee', 'max_fee_rate'],
  errorCodes: BITCOIN_ERROR_CODES,
};
