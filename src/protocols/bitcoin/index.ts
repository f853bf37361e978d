import type { ProtocolModule } from '../module.ts';
import { signPsbtOperation } from './sign-psbt/operation.ts';

/** Bitcoin: PSBT signing with the identity's single-key accounts. No backend yet (sends come later). */
export const bitcoinModule: ProtocolModule<null, never> = {
  name: 'bitcoin',
  operations: [signPsbtOperation],
  quantityFacets: ['max_fee', 'max_fee_rate'],
};
