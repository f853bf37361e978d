import { WardenError } from '../../core/errors.ts';
import { BITCOIN_NETWORKS, type BitcoinNetwork, Warden } from '../../gateway/vault-api.ts';
import type { CliContext } from '../context.ts';
import { type PassphraseSource, readPassphrase } from '../passphrase.ts';

export const PASSPHRASE_ENV = 'WARDEN_PASSPHRASE';
export const BACKUP_PASSPHRASE_ENV = 'WARDEN_BACKUP_PASSPHRASE';
export const NEW_PASSPHRASE_ENV = 'WARDEN_NEW_PASSPHRASE';

export function vaultPassphrase(file: string | undefined): PassphraseSource {
  return { file, envVar: PASSPHRASE_ENV, label: 'vault passphrase', option: '--passphrase-file' };
}

export function newVaultPassphrase(file: string | undefined): PassphraseSource {
  return {
    file,
    envVar: NEW_PASSPHRASE_ENV,
    label: 'new vault passphrase',
    option: '--new-passphrase-file',
  };
}

export function backupPassphrase(file: string | undefined): PassphraseSource {
  return {
    file,
    envVar: BACKUP_PASSPHRASE_ENV,
    label: 'backup passphrase',
    option: '--backup-passphrase-file',
  };
}

/**
 * Unseals the vault, runs `fn`, and always closes (checkpoint, wipe) afterwards. Callers check
 * their arguments before: reading the passphrase and the KDF come first here.
 */
export async function withUnsealedWarden<T>(
  ctx: CliContext,
  passphraseFile: string | undefined,
  fn: (warden: Warden) => Promise<T>,
): Promise<T> {
  const passphrase = await readPassphrase(vaultPassphrase(passphraseFile), ctx.io);
  let warden: Warden;
  try {
    warden = await Warden.unseal(ctx.wardenOptions(), passphrase);
  } finally {
    passphrase.fill(0);
  }
  try {
    return await fn(warden);
  } finally {
    await warden.close();
  }
}

export function parseNetwork(value: string): BitcoinNetwork {
  if (!(BITCOIN_NETWORKS as readonly string[]).includes(value)) {
    throw new WardenError('USAGE', `unknown network "${value}" (one of ${BITCOIN_NETWORKS.join(', ')})`);
  }
  return value as BitcoinNetwork;
}
