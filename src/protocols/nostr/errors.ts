/**
 * Nostr's own codes. NIP-44 v2 (encrypted payloads, src/protocols/nostr/nip44.ts) has one code for
 * every refusal, so that no caller can tell a bad MAC from bad padding by anything but the
 * `details.reason` it is given, and no message ever holds a plaintext, a key or the payload.
 */
import type { ErrorCodeDeclaration } from '../module.ts';

export const NOSTR_ERROR_CODES = {
  NIP44_REFUSED: {
    httpStatus: 400,
    meaning:
      'a NIP-44 v2 encryption or decryption refused: the payload is not a v2 payload sealed for this ' +
      'conversation, or the plaintext or the peer’s public key cannot be used; `details.reason` says ' +
      'which (`type`, `length`, `version`, `base64`, `padding`, `mac`, `plaintext`, `public_key`)',
  },
} as const satisfies Record<string, ErrorCodeDeclaration>;

type NostrErrorCodes = Record<keyof typeof NOSTR_ERROR_CODES, ErrorCodeDeclaration>;

declare module '../../core/errors.ts' {
  interface ProtocolErrorCodes extends NostrErrorCodes {}
}
