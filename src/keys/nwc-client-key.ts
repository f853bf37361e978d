/**
 * Warden as the client of an upstream NWC wallet (NIP-47): what the Lightning backend may do with
 * the connection's client secret, sealed in the identity's Lightning slot inside the URI
 * (nwc-uri.ts). The secret signs requests and holds Warden's end of their NIP-44 v2 encryption to
 * the wallet's key; the conversation key is made and wiped per message (nwc-service-key.ts does
 * the same for Warden's own NWC door, and its signing and encryption are reused here). Only the
 * public parts leave: the wallet's key, the relays, and what was signed, encrypted or decrypted.
 */
import type { EventTemplate, NostrEvent } from 'nostr-tools';
import { wipe } from '../core/bytes.ts';
import { nwcServiceKeyOf } from './nwc-service-key.ts';
import { parseNwcUri } from './nwc-uri.ts';

export interface NwcWalletClient {
  /** The upstream wallet service's x-only public key (hex): requests are addressed to it. */
  readonly walletPubkey: string;
  /** The relays the URI names (ws:// or wss://). */
  readonly relays: readonly string[];
  /** The client's x-only public key (hex): the wallet knows the connection by it. */
  readonly publicKey: string;
  sign(template: EventTemplate): NostrEvent;
  /** NIP-44 v2 to the wallet's key. */
  encrypt(plaintext: string): string;
  /** NIP-44 v2 from the wallet's key. */
  decrypt(payload: string): string;
}

/** Runs `fn` with a client of the URI in `credential`; the secret is wiped when `fn` settles. */
export async function withNwcClient<T>(
  credential: Uint8Array,
  fn: (client: NwcWalletClient) => Promise<T>,
): Promise<T> {
  const { walletPubkey, relays, secret } = parseNwcUri(credential);
  try {
    const key = nwcServiceKeyOf(secret);
    return await fn(
      Object.freeze({
        walletPubkey,
        relays: Object.freeze([...relays]),
        publicKey: key.publicKey,
        sign: (template: EventTemplate) => key.sign(template),
        encrypt: (plaintext: string) => key.encrypt(walletPubkey, plaintext, 'nip44_v2'),
        decrypt: (payload: string) => key.decrypt(walletPubkey, payload, 'nip44_v2'),
      }),
    );
  } finally {
    wipe(secret);
  }
}
