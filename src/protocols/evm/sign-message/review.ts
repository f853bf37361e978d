import { type Hex, hashMessage } from 'viem';
import { visibleJson, visibleText } from '../../../core/display.ts';
import type { MessageType, SignMessageRequest } from './request.ts';
import type { SiweMessage } from './siwe.ts';

/**
 * What an approver reads before an EIP-191 personal_sign: the bytes exactly as they will be signed,
 * the digest the key signs, the address that signs, the fields of a Sign-In with Ethereum message,
 * and one line in words. The line is a reading aid; the payload is what the approval is bound to.
 */
export type SignMessageReviewPayload = {
  standard: 'EIP-191 personal_sign';
  messageType: MessageType;
  /** Lower-case address of the key that signs, or 'none' when the identity has no EVM key. */
  signingAddress: string;
  chainId: number | null;
  byteLength: number;
  /** The message bytes (what follows the prefix), lower-case hex. */
  messageHex: string;
  /** The message as text, when it is text (or its bytes are valid UTF-8). */
  text: string | null;
  /** What is put before the message: "\x19Ethereum Signed Message:\n" and the byte length. */
  prefix: string;
  /** keccak256(prefix ‖ message): the 32 bytes the key signs. */
  signedDigest: Hex;
  siwe: SiweReview | null;
  warnings: string[];
};

/** The SIWE fields as parsed, the statement with every hiding character made visible. */
export type SiweReview = SiweMessage;

export interface SignMessageReview {
  payload: SignMessageReviewPayload;
  summary: string;
}

const MAX_SHOWN = 120;
const HASH32_WARNING =
  'these are exactly 32 bytes: they could be a transaction hash or another digest, and a personal_sign ' +
  'signature over them can authorize whatever they hash';

/** The EIP-191 version 0x45 prefix of a message of `length` bytes. */
export function eip191Prefix(length: number): string {
  return `\x19Ethereum Signed Message:\n${length}`;
}

/** Caller text for a one-line summary: quoted, cut short (by code point), hiding characters visible. */
function quoted(text: string): string {
  const points = Array.from(text);
  return visibleJson(points.length > MAX_SHOWN ? `${points.slice(0, MAX_SHOWN).join('')}…` : text);
}

/** Whether visibleText would escape anything but line breaks (which every multi-line text has). */
function hidesCharacters(text: string): boolean {
  const lines = text.split('\n');
  return lines.some((line) => visibleText(line) !== line);
}

export function signMessageReview(
  parsed: SignMessageRequest,
  signingAddress: string | null,
): SignMessageReview {
  const signer = signingAddress?.toLowerCase() ?? 'none';
  const byteLength = (parsed.messageHex.length - 2) / 2;
  const siwe = parsed.siwe;
  const warnings: string[] = [];
  if (parsed.messageType === 'hash32') warnings.push(HASH32_WARNING);
  if (parsed.text !== null && hidesCharacters(parsed.text))
    warnings.push(
      'the text holds invisible or control characters other than line breaks; they are shown as \\u{…} escapes',
    );
  if (siwe) {
    if (siwe.address.toLowerCase() !== signer)
      warnings.push(
        `the sign-in is for ${siwe.address.toLowerCase()}, not the signing address ${signer}: it will be refused`,
      );
    if (siwe.expirationTime === null)
      warnings.push(
        'the sign-in has no expiration time: the signature stays a valid login until the site ends it',
      );
    if (siwe.scheme !== null && siwe.scheme.toLowerCase() !== 'https')
      warnings.push(`the sign-in is for the scheme ${siwe.scheme}, not https`);
  }
  const payload: SignMessageReviewPayload = {
    standard: 'EIP-191 personal_sign',
    messageType: parsed.messageType,
    signingAddress: signer,
    chainId: parsed.chainId,
    byteLength,
    messageHex: parsed.messageHex,
    text: parsed.text,
    prefix: eip191Prefix(byteLength),
    signedDigest: hashMessage({ raw: parsed.messageHex }),
    siwe: siwe && {
      ...siwe,
      statement: siwe.statement === null ? null : visibleText(siwe.statement),
      resources: [...siwe.resources],
    },
    warnings,
  };
  return { payload, summary: summaryOf(parsed, signer, byteLength, warnings) };
}

function summaryOf(
  parsed: SignMessageRequest,
  signer: string,
  byteLength: number,
  warnings: string[],
): string {
  const chain = parsed.chainId === null ? '' : ` (chain ${parsed.chainId})`;
  const siwe = parsed.siwe;
  let line: string;
  if (siwe) {
    const origin = `${siwe.scheme === null ? '' : `${siwe.scheme}://`}${siwe.domain}`;
    const expiry = siwe.expirationTime === null ? 'never expires' : `expires ${siwe.expirationTime}`;
    const notBefore = siwe.notBefore === null ? '' : `, valid from ${siwe.notBefore}`;
    line =
      `Sign-In with Ethereum to ${origin} as ${siwe.address.toLowerCase()} on chain ${siwe.chainId}, ` +
      `${expiry}${notBefore}; signed by ${signer}`;
  } else if (parsed.messageType === 'hash32') {
    line = `sign the 32-byte value ${parsed.messageHex}, which could be a transaction hash or another digest, with ${signer}${chain}`;
  } else if (parsed.encoding === 'text' && parsed.text !== null) {
    line = `sign the text message ${quoted(parsed.text)} (${byteLength} bytes) with ${signer}${chain}`;
  } else {
    const head = parsed.messageHex.slice(0, 2 + 32);
    line = `sign ${byteLength} raw bytes ${head}${byteLength > 16 ? '…' : ''} with ${signer}${chain}`;
  }
  const refused = warnings.find((w) => w.endsWith('it will be refused'));
  return refused ? `${line} (WARNING: ${refused})` : line;
}
