import { createHash } from 'node:crypto';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { type EventTemplate, type NostrEvent, serializeEvent } from 'nostr-tools';
import { signSchnorrDigest } from './schnorr.ts';
import type { SchnorrThread } from './schnorr-thread.ts';
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
  const { unsigned, id } = eventToSign(pubkey, template);
  const sig = vault.useSecret(identity, 'nostr', 'sign', (secretKey) =>
    signSchnorrDigest(hexToBytes(id), secretKey),
  );
  return { ...unsigned, id, sig: bytesToHex(sig) };
}

/** The same, signed on the signing thread: the key is unsealed here, a copy moved there for the job. */
export async function signNostrEventOffThread(
  vault: Vault,
  thread: SchnorrThread,
  identity: string,
  pubkey: string,
  template: EventTemplate,
): Promise<NostrEvent> {
  const { unsigned, id } = eventToSign(pubkey, template);
  // Boxed: useSecret refuses a callback that returns a promise (it would hold the key past the
  // turn); the thread took its own copy of the key before this returns.
  const job = vault.useSecret(identity, 'nostr', 'sign', (secretKey) => ({
    signed: thread.sign(hexToBytes(id), secretKey),
  }));
  const sig = await job.signed;
  return { ...unsigned, id, sig: bytesToHex(sig) };
}

function eventToSign(pubkey: string, template: EventTemplate) {
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
  return { unsigned, id };
}
