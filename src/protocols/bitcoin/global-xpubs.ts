/**
 * PSBT_GLOBAL_XPUB entries name the extended keys a PSBT was made for, with their network in the
 * version bytes (xpub on mainnet, tpub on every test network). A PSBT carrying one of another
 * network than the identity's was made for another wallet: refused before anything else is said
 * about it. Read by the raw scan (the decoded transaction does not expose them; a second decode would cost).
 */
import { WardenError } from '../../core/errors.ts';
import type { BitcoinNetwork } from './networks.ts';

const XPUB = 0x0488b21e;
const TPUB = 0x043587cf;

/** `versions`: of each PSBT_GLOBAL_XPUB, as the raw scan read them (psbt-entries.ts). */
export function checkGlobalXpubs(versions: readonly number[], network: BitcoinNetwork): void {
  const expected = network === 'bitcoin' ? XPUB : TPUB;
  for (const version of versions) {
    if (version !== expected)
      throw new WardenError(
        'INVALID_REQUEST',
        `psbt names an extended key of another network than ${network} (PSBT_GLOBAL_XPUB)`,
        { field: 'psbt', reason: 'other_network', network },
      );
  }
}
