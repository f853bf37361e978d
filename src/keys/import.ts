import { secp256k1 } from '@noble/curves/secp256k1.js';
import { nip19 } from 'nostr-tools';
import * as nip49 from 'nostr-tools/nip49';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';

/**
 * Parses an imported Nostr secret: `nsec1…` (NIP-19) or `ncryptsec1…` (NIP-49, which needs its
 * password). nostr-tools decodes bech32 from a string, so this path holds a transient JS string
 * of the encoded key that cannot be wiped (see the README); the decoded key is returned as bytes.
 */
export function parseNostrSecret(file: Uint8Array, ncryptsecPassword?: Uint8Array): Uint8Array {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(file).trim();
  let key: Uint8Array;
  try {
    if (text.startsWith('ncryptsec1')) {
      if (!ncryptsecPassword) {
        throw new WardenError('INVALID_NSEC', 'an ncryptsec needs its password (--ncryptsec-password-file)');
      }
      key = nip49.decrypt(text, new TextDecoder().decode(ncryptsecPassword));
    } else if (text.startsWith('nsec1')) {
      const decoded = nip19.decode(text);
      if (decoded.type !== 'nsec') throw new Error('not an nsec');
      key = new Uint8Array(decoded.data);
      decoded.data.fill(0);
    } else {
      throw new WardenError('INVALID_NSEC', 'the file holds neither an nsec nor an ncryptsec');
    }
  } catch (err) {
    if (err instanceof WardenError) throw err;
    // The library's message may quote the input: never pass it on.
    throw new WardenError(
      'INVALID_NSEC',
      'the nsec/ncryptsec could not be decoded (checksum, length or password)',
    );
  } finally {
    wipe(ncryptsecPassword);
  }
  if (key.length !== 32 || !secp256k1.utils.isValidSecretKey(key)) {
    wipe(key);
    throw new WardenError('INVALID_NSEC', 'the decoded Nostr key is not a valid secp256k1 secret key');
  }
  return key;
}

/** The files an identity is imported from: a BIP-39 mnemonic and/or a Nostr secret (nsec, ncryptsec). */
export interface ImportFiles {
  mnemonic?: Uint8Array;
  nsec?: Uint8Array;
  ncryptsecPassword?: Uint8Array;
}

/** The key material of those files, decoded (the caller's buffers are wiped by the vault). */
export function importMaterial(files: ImportFiles): { mnemonic?: Uint8Array; nostrSecretKey?: Uint8Array } {
  const nostrSecretKey = files.nsec ? parseNostrSecret(files.nsec, files.ncryptsecPassword) : undefined;
  return {
    ...(files.mnemonic ? { mnemonic: files.mnemonic } : {}),
    ...(nostrSecretKey ? { nostrSecretKey } : {}),
  };
}
