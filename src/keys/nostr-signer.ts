import { type EventTemplate, finalizeEvent, type VerifiedEvent } from 'nostr-tools';
import type { Vault } from './vault.ts';

/**
 * Signs a NIP-01 event with the identity's active Nostr key: the key is unsealed for this one
 * signature and wiped right after (Vault.useSecret).
 */
export function signNostrEvent(vault: Vault, identity: string, template: EventTemplate): VerifiedEvent {
  return vault.useSecret(identity, 'nostr', 'sign', (secretKey) =>
    finalizeEvent({ ...template, tags: template.tags.map((t) => [...t]) }, secretKey),
  );
}
