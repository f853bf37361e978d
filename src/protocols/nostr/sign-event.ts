import type { EventTemplate, NostrEvent } from 'nostr-tools';
import { utf8 } from '../../core/bytes.ts';
import { WardenError } from '../../core/errors.ts';
import type { ExecutionOutcome, Operation } from '../operation.ts';
import {
  NOSTR_SIGN_REQUEST_SCHEMA,
  NOSTR_SIGN_RESULT_SCHEMA,
  type NostrSignRequest,
  nostrSignIntent,
  parseNostrSignRequest,
} from './request.ts';
import { nostrReview } from './review.ts';

/** A NIP-01 event signed with the identity's Nostr key. */
export const signEventOperation: Operation<NostrSignRequest, null, 'nostr-event'> = {
  name: 'nostr.sign_event',
  aliases: ['nostr.sign'],
  protocol: 'nostr',
  action: 'sign_event',
  capability: 'nostr:sign',
  signer: 'nostr-event',
  http: { path: '/v1/nostr/sign' },
  title: 'Sign a Nostr event',
  description:
    "Signs a NIP-01 event (kind, content, tags) with the identity's Nostr key and returns it signed. Nothing is published. Logins, payments, relay lists, profile changes and other sensitive kinds are held for an operator by default.",
  requestSchema: NOSTR_SIGN_REQUEST_SCHEMA,
  resultSchema: NOSTR_SIGN_RESULT_SCHEMA,
  parse: (body, now) => parseNostrSignRequest(body, now),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: (p) => p.payloadDigest,
  toIntent: async (p, ctx) => nostrSignIntent(ctx.identity, p),
  // The review names the key that signs: a rotation between hold and release fails the release.
  review: (p, _intent, keys) => nostrReview(p.template, keys.nostr?.pubkey ?? 'none'),
  encode: (p) => utf8(JSON.stringify(p)),
  decode: (bytes) => {
    const p = JSON.parse(new TextDecoder().decode(bytes)) as NostrSignRequest;
    if (typeof p?.template?.kind !== 'number')
      throw new WardenError('INTERNAL', 'stored request is unreadable');
    return p;
  },
  sign(p, _intent, signer) {
    try {
      return signedOutcome(signer.signEvent(p.template as EventTemplate));
    } catch (err) {
      return notSigned(err);
    }
  },
  signOffThread(p, _intent, signer) {
    return signer.signEventOffThread
      ? signer.signEventOffThread(p.template as EventTemplate).then(signedOutcome, notSigned)
      : null;
  },
};

function signedOutcome(event: NostrEvent): ExecutionOutcome {
  return { status: 'done', result: { event } };
}

function notSigned(err: unknown): ExecutionOutcome {
  const code = err instanceof WardenError ? err.code : 'SIGNING_FAILED';
  return { status: 'failed', code, message: 'the event could not be signed' };
}
