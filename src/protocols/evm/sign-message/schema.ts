import { z } from 'zod';
import { IDEMPOTENCY_KEY } from '../../../core/validate.ts';
import { MAX_MESSAGE_BYTES } from './request.ts';

/**
 * The JSON Schemas (2020-12) of `evm.sign_message`, for the OpenAPI document and MCP tools. They
 * say what the parser (request.ts) accepts; the parser is the judge and refuses a little more than
 * a schema can say: text over 16 KiB in UTF-8 bytes (a schema counts characters), lone surrogates,
 * and SIWE messages that do not conform, are expired, or disagree with `chainId`.
 */
const chainId = z
  .number()
  .int()
  .positive()
  .max(Number.MAX_SAFE_INTEGER)
  .nullable()
  .optional()
  .describe(
    'EIP-155 chain id the message is meant for (context and policy); a SIWE message must name the same.',
  );
const idempotencyKey = z
  .string()
  .regex(IDEMPOTENCY_KEY)
  .nullable()
  .optional()
  .describe('1-128 characters of A-Z a-z 0-9 . _ : -; a retry with the same key returns the first answer.');

const textBody = z.strictObject({
  message: z
    .string()
    .min(1)
    .max(MAX_MESSAGE_BYTES)
    .describe(
      `UTF-8 text to sign (at most ${MAX_MESSAGE_BYTES} bytes). A Sign-In with Ethereum (EIP-4361) message must conform in full.`,
    ),
  chainId,
  idempotencyKey,
});
const hexBody = z.strictObject({
  messageHex: z
    .string()
    .regex(new RegExp(`^0x(?:[0-9a-fA-F]{2}){1,${MAX_MESSAGE_BYTES}}$`))
    .describe(
      `Raw bytes to sign, as 0x and hex digits (1 to ${MAX_MESSAGE_BYTES} bytes). Exactly 32 bytes count as a possible hash (message_type hash32).`,
    ),
  chainId,
  idempotencyKey,
});

export const signMessageBody = z.union([textBody, hexBody]);

export const signMessageResult = z.strictObject({
  signature: z
    .string()
    .regex(/^0x[0-9a-f]{130}$/)
    .describe('65 bytes r ‖ s ‖ v, v = 27 + yParity, as personal_sign returns it'),
  address: z
    .string()
    .regex(/^0x[0-9a-f]{40}$/)
    .describe('lower-case address that signed'),
  messageHash: z
    .string()
    .regex(/^0x[0-9a-f]{64}$/)
    .describe('keccak256("\\x19Ethereum Signed Message:\\n" + length + message): the digest signed'),
});

export const requestSchema: Readonly<Record<string, unknown>> = Object.freeze({
  ...z.toJSONSchema(signMessageBody),
  title: 'evm.sign_message request',
  description:
    'Exactly one of message (text) or messageHex (bytes), with optional chainId and idempotencyKey.',
});

export const resultSchema: Readonly<Record<string, unknown>> = Object.freeze({
  ...z.toJSONSchema(signMessageResult),
  title: 'evm.sign_message result',
});
