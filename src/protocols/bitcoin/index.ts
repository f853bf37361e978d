import type { ProtocolModule } from '../module.ts';
import { BITCOIN_ERROR_CODES } from './errors.ts';
import { BITCOIN_MIGRATIONS } from './migrations.ts';
import { createMultisig, listMultisig, showMultisig } from './multisig/admin.ts';
import { signPsbtOperation } from './sign-psbt/operation.ts';

/**
 * Bitcoin: PSBT signing with the identity's single-key accounts and its registered 2-of-3 wallets
 * (Warden's one signature of two). No backend yet (sends come later).
 */
export const bitcoinModule: ProtocolModule<null, never> = {
  name: 'bitcoin',
  operations: [signPsbtOperation],
  migrations: BITCOIN_MIGRATIONS,
  admin: [createMultisig, listMultisig, showMultisig],
  quantityFacets: ['max_fee', 'max_fee_rate'],
  errorCodes: BITCOIN_ERROR_CODES,
};
