import type { Operation } from '../../operation.ts';
import { storedCodec } from '../../stored.ts';
import type { BitcoinBackend } from '../backend.ts';
import { optionalFeeEnvironment } from '../fee-environment.ts';
import type { BitcoinDb } from '../tables.ts';
import { issuedAddresses } from '../wallet/address-book.ts';
import { signPsbt } from './execute.ts';
import { analysisOf, liveWallets, type SignPsbtDetail, signPsbtDigest, signPsbtIntent } from './intent.ts';
import { parseSignPsbtRequest, type SignPsbtRequest } from './request.ts';
import { signPsbtReview } from './review.ts';
import { requestSchema, resultSchema } from './schema.ts';

/** Held requests are stored as their parsed body, read back by the parser. */
const { encode, decode } = storedCodec(
  'sign-psbt',
  (p: SignPsbtRequest) => ({ psbt: p.psbt, payTo: p.payTo, idempotencyKey: p.idempotencyKey }),
  parseSignPsbtRequest,
);

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
  async toIntent(p, ctx) {
    const wallets = await liveWallets(ctx);
    // The PSBT is judged first: a bad one is refused before anything is asked of a node.
    const analysis = analysisOf(p, ctx.publicKeys, wallets);
    const [environment, issued] = await Promise.all([
      optionalFeeEnvironment(ctx.backend, ctx.publicKeys.network, ctx.identity),
      ctx.tables ? issuedAddresses(ctx.tables, ctx.identity) : undefined,
    ]);
    return signPsbtIntent(ctx.identity, p, ctx.publicKeys, wallets, {
      analysis,
      environment,
      ...(issued === undefined ? {} : { issued }),
    });
  },
  review: (p, intent, publicKeys) =>
    signPsbtReview(p, publicKeys, (intent.detail as SignPsbtDetail | undefined)?.wallets ?? []),
  encode,
  decode,
  sign: (p, intent, signer) => signPsbt(p, intent, signer),
} satisfies Operation<SignPsbtRequest, BitcoinBackend, 'bitcoin-psbt', BitcoinDb>;
