import { createHash } from 'node:crypto';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { type EventTemplate, type NostrEvent, serializeEvent } from 'nostr-tools';
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
  // NIP-01's id: SHA-256 of nostr-tools' serialization, hashed by OpenSSL (a third of the cost of
  // nostr-tools' getEventHash, which hashes it with noble); every verifier hashes it again.
  const id = createHash('sha256').update(serializeEvent(unsigned), 'utf8').digest('hex');
  const sig = vault.useSecret(identity, 'nostr', 'sign', (secretKey) =>
    signSchnorrDigest(hexToBytes(id), secretKey),
  );
  return { ...unsigned, id, sig: bytesToHex(sig) };
}
