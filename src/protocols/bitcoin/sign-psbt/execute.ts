import { base64, hex } from '@scure/base';
import { type ErrorCode, isWardenError } from '../../../core/errors.ts';
import type { Intent } from '../../../core/intent.ts';
import type { BitcoinPsbtSigner } from '../../../keys/capabilities.ts';
import type { ExecutionOutcome } from '../../operation.ts';
import { takeDecoded } from '../psbt-decode.ts';
import { psbtDigest, type SignPsbtDetail } from './intent.ts';
import type { SignPsbtRequest } from './request.ts';
import { verifySignedInputs } from './verify.ts';

const failed = (code: ErrorCode, message: string): ExecutionOutcome => ({ status: 'failed', code, message });

/**
 * Signs the inputs the judged intent names, once the intent, the request and the signer agree:
 * the same PSBT bytes, the same seed. Every signature is verified (ECDSA or Schnorr, over the
 * sighash recomputed from the signed PSBT) before the PSBT is returned, so a wrong one never
 * leaves. Synchronous: it signs inside the transaction that admits the request.
 */
export function signPsbt(
  parsed: SignPsbtRequest,
  intent: Intent,
  signer: BitcoinPsbtSigner,
): ExecutionOutcome {
  const detail = intent.detail as SignPsbtDetail;
  if (intent.action !== 'sign_psbt' || detail.psbtDigest !== psbtDigest(parsed))
    return failed('INTERNAL', 'the judged intent is not this PSBT; nothing was signed');
  if (detail.fingerprint !== signer.fingerprint)
    return failed(
      'KEY_NOT_ACTIVE',
      'the signing key changed since the request was judged; nothing was signed',
    );
  // The transaction the analysis judged, handed to the signer (no second decode): the digest above
  // ties the request's PSBT to the intent, and the decode is of that PSBT.
  const { tx } = takeDecoded(parsed);
  let signed: Uint8Array;
  try {
    signed = signer.signInputs(tx, detail.toSign, detail.sighashTypes);
  } catch (err) {
    return failed(isWardenError(err) ? err.code : 'SIGNING_FAILED', 'the PSBT could not be signed');
  }
  const inputs = detail.toSign.map((k) => k.input);
  // Each signature with exactly its input's judged sighash type (older intents: any of the set).
  const sighashOf = (input: number) => detail.toSign.find((k) => k.input === input)?.sighash;
  const multisigKeyOf = (input: number) => {
    const key = detail.toSign.find((k) => k.input === input)?.pubkey;
    return key ? hex.decode(key) : undefined;
  };
  if (!verifySignedInputs(tx, inputs, detail.txid, sighashOf, multisigKeyOf))
    return failed('SIGNING_FAILED', 'a signature does not verify; the PSBT was dropped');
  return {
    status: 'done',
    result: { psbt: base64.encode(signed), txid: detail.txid, signedInputs: inputs, fee: detail.fee },
  };
}
