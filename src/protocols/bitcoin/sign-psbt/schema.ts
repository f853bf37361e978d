import { z } from 'zod';
import { IDEMPOTENCY_KEY } from '../../../core/validate.ts';
import { MAX_PSBT_BYTES } from '../psbt-decode.ts';
import { MAX_PAY_TO } from './request.ts';

/**
 * The JSON Schemas (2020-12) of `bitcoin.sign_psbt`, for the OpenAPI document and MCP tools. The
 * parser (request.ts) is the judge and refuses more than a schema can say: a PSBT that does not
 * decode, and (in the intent) everything the analysis refuses.
 */
const body = z.strictObject({
  psbt: z
    .string()
    .min(1)
    .max(Math.ceil(MAX_PSBT_BYTES / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .describe('BIP-174 (version 0) or BIP-370 (version 2) PSBT, standard base64'),
  payTo: z
    .array(z.string().regex(/^[A-Za-z0-9]{14,90}$/))
    .min(1)
    .max(MAX_PAY_TO)
    .nullable()
    .optional()
    .describe(
      "The addresses the PSBT pays, one per output that is not change: anything else is refused. Addresses of the identity's network only.",
    ),
  idempotencyKey: z
    .string()
    .regex(IDEMPOTENCY_KEY)
    .nullable()
    .optional()
    .describe('1-128 characters of A-Z a-z 0-9 . _ : -; a retry with the same key returns the first answer.'),
});

const result = z.strictObject({
  psbt: z
    .string()
    .describe('the PSBT with the signatures of the identity’s inputs, in the version it came in'),
  txid: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('txid of the transaction (unchanged by segwit signatures)'),
  signedInputs: z.array(z.int().min(0)).describe('indexes of the inputs Warden signed'),
  fee: z
    .string()
    .regex(/^[0-9]+$/)
    .describe('the fee in sat'),
});

export const requestSchema: Readonly<Record<string, unknown>> = Object.freeze({
  ...z.toJSONSchema(body),
  title: 'bitcoin.sign_psbt request',
});

export const resultSchema: Readonly<Record<string, unknown>> = Object.freeze({
  ...z.toJSONSchema(result),
  title: 'bitcoin.sign_psbt result',
});
