/**
 * Refusals of a partially signed transaction (a PSBT), raised before anything is signed; each
 * names the input or output in `details.input` / `details.output` (its index). All are 400: the
 * request itself is unacceptable.
 */
import type { ErrorCodeDeclaration } from '../module.ts';

const refusal = (meaning: string): ErrorCodeDeclaration => ({ httpStatus: 400, meaning });

export const BITCOIN_ERROR_CODES = {
  INPUT_AMOUNT_UNPROVEN: refusal(
    'an input’s amount is not proven by its full previous transaction (missing, or its txid is not the ' +
      'outpoint’s, or the output is not there), where one is needed',
  ),
  FEE_INVALID: refusal('the outputs spend more than the inputs bring (a negative fee)'),
  FEE_TOO_HIGH: refusal('the fee or the fee rate is above the sanity cap (`details.cap`)'),
  SIGHASH_NOT_ALLOWED: refusal(
    'an input to be signed asks for a sighash type not allowed (`details.sighash`)',
  ),
  DUST_OUTPUT: refusal('an output is below the dust threshold of its script type (`details.threshold`)'),
  DATA_OUTPUT_TOO_LARGE: refusal('an OP_RETURN output carries more data than the cap (`details.cap`)'),
  OUTPUT_UNSUPPORTED: refusal(
    'an output’s script is of no standard type, or an OP_RETURN output carries value or is a second ' +
      'one (`details.reason`: `data_output_value`, `second_data_output`)',
  ),
  NOTHING_TO_SIGN: refusal('no input of the transaction re-derives from the identity’s accounts'),
  BITCOIN_NO_NODE: {
    httpStatus: 503,
    meaning: 'no Bitcoin node is configured for the identity’s network (`details.network`)',
  },
  INSUFFICIENT_FUNDS: {
    httpStatus: 409,
    meaning:
      'the identity’s spendable coins (confirmed to the configured depth, not locked by a send in flight) ' +
      'do not cover the amount and the fee (`details.available`, `details.needed`)',
  },
  FEE_ESTIMATE_UNAVAILABLE: {
    httpStatus: 503,
    meaning: 'no fee rate was given and the node has no estimate: give `feerate` (sat/vB)',
  },
  COINS_CHANGED: {
    httpStatus: 409,
    meaning:
      'the coins left when the send ran would cost more fee than was judged (`details.judgedFee`): nothing ' +
      'was signed; ask again',
  },
  AMOUNT_JITTER_NOT_ALLOWED: {
    httpStatus: 403,
    meaning:
      'a send asks for amount jitter (`amount_jitter`) and the identity’s policy sets no jitter cap ' +
      '(`max_amount_jitter`, `max_amount_jitter_bps`): it pays only the amount asked',
  },
  ADDRESS_GAP_LIMIT: {
    httpStatus: 409,
    meaning:
      'as many receive addresses as the gap limit (`details.gap`) are handed out and unused: a wallet ' +
      'restored from the seed would not look past them; use one first',
  },
} as const satisfies Record<string, ErrorCodeDeclaration>;

type BitcoinErrorCodes = Record<keyof typeof BITCOIN_ERROR_CODES, ErrorCodeDeclaration>;

declare module '../../core/errors.ts' {
  interface ProtocolErrorCodes extends BitcoinErrorCodes {}
}
