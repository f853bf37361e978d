import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { hashMessage, serializeSignature } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { type ErrorCode, isWardenError } from '../../../core/errors.ts';
import type { Intent } from '../../../core/intent.ts';
import type { EvmDigestSigner } from '../../../keys/capabilities.ts';
import type { ExecutionOutcome } from '../../operation.ts';
import type { SignMessageRequest } from './request.ts';

const failed = (code: ErrorCode, message: string): ExecutionOutcome => ({ status: 'failed', code, message });

/**
 * Signs the EIP-191 digest of the message with the identity's EVM key, once the judged intent, the
 * parsed request and the signer all agree: the same bytes, the same digest, the key the intent was
 * judged for, and (for SIWE) the address the message signs in as. The signature is recovered
 * before it is returned, so a wrong one never leaves. Synchronous: it signs inside the
 * transaction that admits the request.
 */
export function signMessage(
  parsed: SignMessageRequest,
  intent: Intent,
  signer: EvmDigestSigner,
): ExecutionOutcome {
  const messageHash = hashMessage({ raw: parsed.messageHex });
  const detail = intent.detail;
  if (
    intent.action !== 'sign_message' ||
    detail.messageHex !== parsed.messageHex ||
    detail.messageHash !== messageHash
  ) {
    return failed('INTERNAL', 'the judged intent is not this message; nothing was signed');
  }
  const address = signer.address.toLowerCase();
  if (detail.signingAddress !== address)
    return failed(
      'KEY_NOT_ACTIVE',
      'the signing key changed since the request was judged; nothing was signed',
    );
  if (parsed.siwe && parsed.siwe.address.toLowerCase() !== address) {
    return failed(
      'INVALID_REQUEST',
      `the SIWE message signs in as ${parsed.siwe.address.toLowerCase()}, not ${address}; nothing was signed`,
    );
  }

  let signature: `0x${string}`;
  try {
    const sig = signer.signDigest(hexToBytes(messageHash.slice(2)));
    if (sig.address.toLowerCase() !== address)
      return failed(
        'SIGNING_FAILED',
        'the key that signed is not the expected one; the signature was dropped',
      );
    signature = serializeSignature({ r: sig.r, s: sig.s, yParity: sig.yParity });
  } catch (err) {
    return failed(isWardenError(err) ? err.code : 'SIGNING_FAILED', 'the message could not be signed');
  }
  try {
    const recovered = recoveredAddress(messageHash, signature);
    if (recovered.toLowerCase() !== address) throw new Error('recovered another address');
  } catch {
    return failed('SIGNING_FAILED', 'the signature does not verify; it was dropped');
  }
  return { status: 'done', result: { signature, address, messageHash } };
}

/** The address whose key made a 65-byte `r ‖ s ‖ v` signature of `hash` (noble, independent of the signer). */
function recoveredAddress(hash: `0x${string}`, signature: `0x${string}`): string {
  const bytes = hexToBytes(signature.slice(2));
  const v = bytes[64]!;
  const recovery = v >= 27 ? v - 27 : v;
  const recoverable = new Uint8Array(65);
  recoverable[0] = recovery;
  recoverable.set(bytes.subarray(0, 64), 1);
  const compressed = secp256k1.recoverPublicKey(recoverable, hexToBytes(hash.slice(2)), { prehash: false });
  const uncompressed = secp256k1.Point.fromBytes(compressed).toBytes(false);
  return publicKeyToAddress(`0x${bytesToHex(uncompressed)}`);
}
