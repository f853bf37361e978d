import { wipe } from '../core/bytes.ts';
import { type ContainerHeader, type ContainerKind, newHeader, openSecret, sealSecret } from './container.ts';
import type { KdfParams } from './kdf.ts';

/**
 * Moving every sealed secret from one key-encryption key to another, each opened, re-sealed and
 * wiped in turn: writing a backup, restoring one, and changing the vault passphrase.
 */
export interface Resealed {
  header: ContainerHeader;
  /** The new key-encryption key: the caller keeps it (an unsealed vault) or wipes it. */
  kek: Uint8Array;
  secrets: Map<string, Uint8Array>;
}

/**
 * Every secret re-sealed under a key derived from `passphrase` with a fresh salt and the given KDF
 * settings, into a container of `toKind`.
 */
export async function resealUnder(
  from: { kind: ContainerKind; kek: Uint8Array; vaultId: string; secrets: Map<string, Uint8Array> },
  toKind: ContainerKind,
  passphrase: Uint8Array,
  kdf: Omit<KdfParams, 'alg' | 'salt'>,
): Promise<Resealed> {
  const { header, kek } = await newHeader(toKind, from.vaultId, passphrase, kdf);
  try {
    const secrets = new Map<string, Uint8Array>();
    for (const [id, blob] of from.secrets) {
      const plain = openSecret(from.kek, from.vaultId, id, blob, from.kind);
      try {
        secrets.set(id, sealSecret(kek, from.vaultId, id, plain));
      } finally {
        wipe(plain);
      }
    }
    return { header, kek, secrets };
  } catch (err) {
    wipe(kek);
    throw err;
  }
}
