import type { EventTemplate } from 'nostr-tools';
import { type NostrSignRequest, nostrSignIntent, parseNostrSignRequest } from '../../chains/nostr/request.ts';
import { nostrReview } from '../../chains/nostr/review.ts';
import { utf8 } from '../../core/bytes.ts';
import { WardenError } from '../../core/errors.ts';
import { signNostrEvent } from '../../keys/nostr-signer.ts';
import type { Vault } from '../../keys/vault.ts';
import type { ProtocolHandler } from './handler.ts';

/** `POST /v1/nostr/sign`: a NIP-01 event signed with the identity's Nostr key. */
export function nostrSignHandler(vault: Vault): ProtocolHandler<NostrSignRequest> {
  return {
    operation: 'nostr.sign',
    capability: 'nostr:sign',
    protocol: 'nostr',
    action: 'sign_event',
    parse: (body, now) => parseNostrSignRequest(body, now),
    idempotencyKey: (p) => p.idempotencyKey,
    digest: (p) => p.payloadDigest,
    toIntent: async (identity, p) => nostrSignIntent(identity, p),
    // The review names the key that signs: a rotation between hold and release fails the release.
    review: (p, intent) =>
      nostrReview(p.template, vault.getIdentity(intent.identity).nostr?.pubkey ?? 'none'),
    encode: (p) => utf8(JSON.stringify(p)),
    decode: (bytes) => {
      const p = JSON.parse(new TextDecoder().decode(bytes)) as NostrSignRequest;
      if (typeof p?.template?.kind !== 'number')
        throw new WardenError('INTERNAL', 'stored request is unreadable');
      return p;
    },
    async execute(identity, p) {
      try {
        const event = signNostrEvent(vault, identity, p.template as EventTemplate);
        return { status: 'done', result: { event } };
      } catch (err) {
        const code = err instanceof WardenError ? err.code : 'SIGNING_FAILED';
        return { status: 'failed', code, message: 'the event could not be signed' };
      }
    },
  };
}
