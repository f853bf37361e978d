/**
 * PSBT_GLOBAL_XPUB entries name the extended keys a PSBT was made for, with their network in the
 * version bytes (xpub on mainnet, tpub on every test network). A PSBT carrying one of another
 * network than the identity's was made for another wallet: refused before anything else is said
 * about it. Read with the library's raw PSBT coders (the decoded transaction does not expose them).
 */
import { RawPSBTV0, RawPSBTV2 } from '@scure/btc-signer/psbt.js';
import { WardenError } from '../../core/errors.ts';
import type { BitcoinNetwork } from './networks.ts';

const XPUB = 0x0488b21e;
const TPUB = 0x043587cf;

function versionsOf(bytes: Uint8Array, psbtVersion: 0 | 2): number[] {
  try {
    const raw = psbtVersion === 2 ? RawPSBTV2.decode(bytes) : RawPSBTV0.decode(bytes);
    return (raw.global.xpub ?? []).map(([key]) => key.version);
  } catch {
    // The transaction decoder accepted these bytes; a raw coder that does not is no reason to sign.
    throw new WardenError('INVALID_REQUEST', 'psbt cannot be read', { field: 'psbt', reason: 'not_psbt' });
  }
}

export function checkGlobalXpubs(bytes: Uint8Array, psbtVersion: 0 | 2, network: BitcoinNetwork): void {
  const expected = network === 'bitcoin' ? XPUB : TPUB;
  for (const version of versionsOf(bytes, psbtVersion)) {
    if (version !== expected)
      throw new WardenError(
        'INVALID_REQUEST',
        `psbt names an extended key of another network than ${network} (PSBT_GLOBAL_XPUB)`,
        { field: 'psbt', reason: 'other_network', network },
      );
  }
}
