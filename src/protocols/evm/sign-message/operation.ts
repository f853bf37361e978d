import { utf8 } from '../../../core/bytes.ts';
import { WardenError } from '../../../core/errors.ts';
import type { Operation } from '../../operation.ts';
import { signMessage } from './execute.ts';
import { signingAddressOf, signMessageDigest, signMessageIntent } from './intent.ts';
import { parseSignMessageRequest, type SignMessageRequest } from './request.ts';
import { signMessageReview } from './review.ts';
import { requestSchema, resultSchema } from './schema.ts';

/** Stored form of a held request: the body as parsed, without defaults, read back by the parser. */
const STORED_VERSION = 1;

function encode(p: SignMessageRequest): Uint8Array {
  const message = p.encoding === 'text' ? { message: p.text } : { messageHex: p.messageHex };
  return utf8(
    JSON.stringify({ v: STORED_VERSION, ...message, chainId: p.chainId, idempotencyKey: p.idempotencyKey }),
  );
}

function decode(bytes: Uint8Array): SignMessageRequest {
  let stored: unknown;
  try {
    stored = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new WardenError('INTERNAL', 'a stored sign-message request is unreadable', {}, { cause: err });
  }
  if (typeof stored !== 'object' || stored === null || (stored as { v?: unknown }).v !== STORED_VERSION)
    throw new WardenError('INTERNAL', 'a stored sign-message request has an unknown form');
  const { v: _version, ...body } = stored as Record<string, unknown>;
  try {
    // Read back by the same parser, every check again except expiry: a held sign-in may expire
    // while it waits, and signing it then harms nobody (the site refuses it).
    return parseSignMessageRequest(body, null);
  } catch (err) {
    throw new WardenError('INTERNAL', 'a stored sign-message request no longer parses', {}, { cause: err });
  }
}

/**
 * `evm.sign_message`: EIP-191 personal_sign of a text or of raw bytes with the identity's EVM key.
 * Sign-In with Ethereum messages are parsed strictly and shown field by field; 32-byte payloads are
 * marked (message_type hash32) so that policy refuses them unless a rule allows them by name.
 */
export const signMessageOperation = {
  name: 'evm.sign_message',
  protocol: 'evm',
  action: 'sign_message',
  capability: 'evm:sign_message',
  signer: 'evm-digest',
  http: { path: '/v1/evm/sign-message' },
  title: 'Sign an off-chain message with the EVM key (EIP-191 personal_sign)',
  description:
    'Signs a message the way a wallet answers personal_sign: keccak256 of "\\x19Ethereum Signed Message:\\n", ' +
    'the byte length and the message, signed with the identity’s EVM key. Send UTF-8 text as `message` or raw ' +
    'bytes as `messageHex`. Nothing moves on chain, but a signature can still act: a Sign-In with Ethereum ' +
    '(EIP-4361) message logs in to a site, and a signature over 32 bytes may authorize whatever they hash. So ' +
    'requests are held for an operator by default; a SIWE message must conform in full, name this identity’s ' +
    'address and not be expired, and its domain, address, chain and expiry are shown to the approver; a ' +
    '32-byte payload (message_type hash32) is refused unless a policy rule allows it by name. The result is ' +
    'the 65-byte signature (r ‖ s ‖ v), the signing address and the digest signed.',
  requestSchema,
  resultSchema,
  parse: (body, now) => parseSignMessageRequest(body, now),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: signMessageDigest,
  toIntent: async (p, ctx) => signMessageIntent(ctx.identity, p, ctx.publicKeys),
  review: (p, _intent, publicKeys) =>
    signMessageReview(p, publicKeys.evm ? signingAddressOf(publicKeys) : null),
  encode,
  decode,
  sign: (p, intent, signer) => signMessage(p, intent, signer),
} satisfies Operation<SignMessageRequest, unknown, 'evm-digest'>;
