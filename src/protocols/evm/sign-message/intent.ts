import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hashMessage } from 'viem';
import { utf8 } from '../../../core/bytes.ts';
import { canonicalJson } from '../../../core/canonical.ts';
import { WardenError } from '../../../core/errors.ts';
import type { Intent } from '../../../core/intent.ts';
import type { IdentityView } from '../../../keys/view.ts';
import type { MessageType, SignMessageRequest } from './request.ts';

/** Signing a message moves nothing: its "asset" only names what it produces. */
export const SIGNATURE_ASSET = 'evm:signature';

/**
 * What the request commits to: the message as sent (the text, or the bytes in lower-case hex) and
 * the chain id (null when absent). Key order, hex case and an absent versus null chainId do not
 * change it; the idempotency key is not part of it (a retry with the same key must match it).
 */
export function signMessageDigest(p: SignMessageRequest): string {
  const body =
    p.encoding === 'text'
      ? { message: p.text, chainId: p.chainId }
      : { messageHex: p.messageHex, chainId: p.chainId };
  return bytesToHex(sha256(utf8(canonicalJson(body))));
}

/** The module's part of the intent: what execute checks before it signs (plain JSON). */
export type SignMessageDetail = {
  messageType: MessageType;
  messageHex: `0x${string}`;
  byteLength: number;
  /** The EIP-191 digest that will be signed. */
  messageHash: `0x${string}`;
  /** Lower-case address of the key the intent was judged for. */
  signingAddress: string;
  chainId: number | null;
  siwe: { address: string; domain: string; chainId: number; expirationTime: string | null } | null;
};

/** The lower-case address of the identity's EVM key, or KEY_NOT_ACTIVE. */
export function signingAddressOf(publicKeys: IdentityView): string {
  if (!publicKeys.evm) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no EVM key');
  return publicKeys.evm.address.toLowerCase();
}

/**
 * The Intent of a personal_sign. Nothing moves (amount and fee 0); the facets say what kind of
 * message it is, for which chain and which site. A SIWE message for another address is refused
 * here, before anything is recorded: this key cannot sign in as someone else.
 */
export function signMessageIntent(identity: string, p: SignMessageRequest, publicKeys: IdentityView): Intent {
  const signingAddress = signingAddressOf(publicKeys);
  const field = p.encoding === 'text' ? 'message' : 'messageHex';
  if (p.siwe && p.siwe.address.toLowerCase() !== signingAddress) {
    throw new WardenError(
      'INVALID_REQUEST',
      `the SIWE message signs in as ${p.siwe.address.toLowerCase()}, but this identity signs as ${signingAddress}`,
      { field, siweField: 'address' },
    );
  }
  const detail: SignMessageDetail = {
    messageType: p.messageType,
    messageHex: p.messageHex,
    byteLength: (p.messageHex.length - 2) / 2,
    messageHash: hashMessage({ raw: p.messageHex }),
    signingAddress,
    chainId: p.chainId,
    siwe: p.siwe && {
      address: p.siwe.address.toLowerCase(),
      domain: p.siwe.domain.toLowerCase(),
      chainId: p.siwe.chainId,
      expirationTime: p.siwe.expirationTime,
    },
  };
  return {
    protocol: 'evm',
    action: 'sign_message',
    identity,
    asset: SIGNATURE_ASSET,
    amount: 0n,
    destinations: [],
    maxFee: 0n,
    feeAsset: SIGNATURE_ASSET,
    payloadDigest: signMessageDigest(p),
    idempotencyKey: p.idempotencyKey,
    facets: {
      message_type: p.messageType,
      chain_id: p.chainId ?? p.siwe?.chainId ?? null,
      siwe_domain: p.siwe ? p.siwe.domain.toLowerCase() : null,
    },
    detail,
  };
}
