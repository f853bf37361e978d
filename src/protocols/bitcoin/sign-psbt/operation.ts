import { utf8 } from '../../../core/bytes.ts';
import { WardenError } from '../../../core/errors.ts';
import type { Operation } from '../../operation.ts';
import { signPsbt } from './execute.ts';
import { liveWallets, type SignPsbtDetail, signPsbtDigest, signPsbtIntent } from './intent.ts';
import { parseSignPsbtRequest, type SignPsbtRequest } from './request.ts';
import { signPsbtReview } from './review.ts';
import { requestSchema, resultSchema } from './schema.ts';

/** Stored form of a held request: the body as parsed, read back by the parser. */
const STORED_VERSION = 1;

function encode(p: SignPsbtRequest): Uint8Array {
  return utf8(
    JSON.stringify({ v: STORED_VERSION, psbt: p.psbt, payTo: p.payTo, idempotencyKey: p.idempotencyKey }),
  );
}

function decode(bytes: Uint8Array): SignPsbtRequest {
  let stored: unknown;
  try {
    stored = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new WardenError('INTERNAL', 'a stored sign-psbt request is unreadable', {}, { cause: err });
  }
  if (typeof stored !== 'object' || stored === null || (stored as { v?: unknown }).v !== STORED_VERSION)
    throw new WardenError('INTERNAL', 'a stored sign-psbt request has an unknown form');
  const { v: _version, ...body } = stored as Record<string, unknown>;
  try {
    return parseSignPsbtRequest(body);
  } catch (err) {
    throw new WardenError('INTERNAL', 'a stored sign-psbt request no longer parses', {}, { cause: err });
  }
}

/**
 * `bitcoin.sign_psbt`: signs the inputs of a PSBT that spend the identity's own BIP-84 (P2WPKH)
 * and BIP-86 (P2TR) keys, after proving what every input brings and where every output goes.
 */
export const signPsbtOperation = {
  name: 'bitcoin.sign_psbt',
  protocol: 'bitcoin',
  action: 'sign_psbt',
  capability: 'bitcoin:sign_psbt',
  signer: 'bitcoin-psbt',
  http: { path: '/v1/bitcoin/sign-psbt' },
  title: 'Sign a Bitcoin PSBT with the identity’s keys',
  description:
    'Signs the inputs of a PSBT (BIP-174 version 0 or BIP-370 version 2, base64) that spend the identity’s ' +
    'BIP-84 (P2WPKH) or BIP-86 (P2TR) keys, and returns the PSBT with those signatures; nothing is broadcast. ' +
    'Before signing, Warden proves every input amount (the full previous transaction for legacy and segwit v0 ' +
    'inputs; witness_utxo is enough only when every input is taproot), computes the fee and fee rate, and counts ' +
    'as change only outputs whose script re-derives from the identity’s internal chain: everything else is spent ' +
    'and counts against the budgets with the fee. Sighash types other than DEFAULT/ALL, and segwit v0 amounts ' +
    'without their previous transaction, need a policy rule naming them; dust outputs, OP_RETURN data over 80 ' +
    'bytes and non-standard outputs are refused. `payTo` may list the addresses the PSBT must pay.',
  requestSchema,
  resultSchema,
  parse: (body, _now: Date) => parseSignPsbtRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: signPsbtDigest,
  toIntent: async (p, ctx) => signPsbtIntent(ctx.identity, p, ctx.publicKeys, await liveWallets(ctx)),
  review: (p, intent, publicKeys) =>
    signPsbtReview(p, publicKeys, (intent.detail as SignPsbtDetail | undefined)?.wallets ?? []),
  encode,
  decode,
  sign: (p, intent, signer) => signPsbt(p, intent, signer),
} satisfies Operation<SignPsbtRequest, unknown, 'bitcoin-psbt'>;
