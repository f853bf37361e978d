import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { type EventTemplate, getEventHash, type NostrEvent } from 'nostr-tools';
import { signSchnorrDigest } from './schnorr.ts';
import type { Vault } from './vault.ts';

/**
 * Signs a NIP-01 event with the identity's active Nostr key: the key is unsealed for signing and
 * wiped when the synchronous run ends (Vault.useSecret), so one batch unseals it once.
 *
 * `pubkey` is the key's public half as the vault recorded it when the key was made: deriving it
 * again would cost as much as the signature. Were the record ever wrong, the event would name a key
 * that did not sign it, and every verifier would reject it; nothing would be signed in another
 * key's name.
 */
export function signNostrEvent(
  vault: Vault,
  identity: string,
  pubkey: string,
  template: EventTemplate,
): NostrEvent {
  const unsigned = {
    kind: template.kind,
    created_at: template.created_at,
    tags: template.tags.map((t) => [...t]),
    content: template.content,
    pubkey,
  };
  const id = getEventHash(unsigned);
  const sig = vault.useSecret(identity, 'nostr', 'sign', (secretKey) =>
    signSchnorrDigest(hexToBytes(id), secretKey),
  );
  return { ...unsigned, id, sig: bytesToHex(sig) };
}
