import { z } from 'zod';
import { IDEMPOTENCY_KEY } from '../../../core/validate.ts';
import type { Operation } from '../../operation.ts';
import { storedCodec } from '../../stored.ts';
import type { BitcoinBackend } from '../backend.ts';
import type { BitcoinDb } from '../tables.ts';
import { executeSend } from './execute.ts';
import { type SendDetail, sendDigest, sendIntent } from './intent.ts';
import { MAX_SEND_OUTPUTS, parseSendRequest, type SendRequest } from './request.ts';

const address = z
  .string()
  .regex(/^[A-Za-z0-9]{14,90}$/)
  .describe("an address of the identity's network");
const sat = z
  .string()
  .regex(/^[0-9]{1,16}$/)
  .describe('satoshis, a decimal string');

const requestBody = z.strictObject({
  to: address.optional(),
  amount_sat: sat.optional(),
  outputs: z
    .array(z.strictObject({ to: address, amount_sat: sat }))
    .min(1)
    .max(MAX_SEND_OUTPUTS)
    .optional()
    .describe('several payments in one transaction (instead of to and amount_sat)'),
  feerate: z
    .string()
    .regex(/^\d{1,7}(\.\d{1,3})?$/)
    .nullable()
    .optional()
    .describe("sat/vB, 1 to 1000; absent: the node's estimate for 6 blocks"),
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional(),
  amount_jitter: z
    .strictObject({ min_amount_sat: sat.optional(), max_amount_sat: sat.optional() })
    .nullable()
    .optional()
    .describe(
      'with one payment: the recipient accepts any amount from min_amount_sat (default amount_sat) to ' +
        'max_amount_sat (default amount_sat); Warden pays a random one there, within the policy’s jitter caps',
    ),
});

const resultBody = z.object({
  txid: z.string().regex(/^[0-9a-f]{64}$/),
  network: z.string(),
  fee: sat.describe('the fee paid, in sat'),
  feeRateMsatPerVb: z.string(),
  inputs: z.array(z.string()).describe('the coins spent, txid:vout'),
  change: z.object({ address: z.string(), index: z.number().int() }).nullable(),
  raw: z.string().describe('the signed transaction, hex'),
  amountSat: sat.describe('what the payments add up to, as sent and booked'),
  requestedAmountSat: sat.describe('the amount asked (differs from amountSat when jittered)'),
});

const requestSchema = Object.freeze({ ...z.toJSONSchema(requestBody), title: 'bitcoin.send request' });
const resultSchema = Object.freeze({ ...z.toJSONSchema(resultBody), title: 'bitcoin.send result' });

const { encode, decode } = storedCodec(
  'bitcoin send',
  (p: SendRequest) => ({
    outputs: p.outputs.map((o) => ({ to: o.to, amount_sat: o.amountSat.toString() })),
    feerate:
      p.feeRateMsatPerVb === null
        ? null
        : `${p.feeRateMsatPerVb / 1000n}.${(p.feeRateMsatPerVb % 1000n).toString().padStart(3, '0')}`,
    idempotencyKey: p.idempotencyKey,
    ...(p.jitter
      ? {
          amount_jitter: {
            min_amount_sat: p.jitter.minSat.toString(),
            max_amount_sat: p.jitter.maxSat.toString(),
          },
        }
      : {}),
  }),
  parseSendRequest,
);

/**
 * `bitcoin.send`: pays addresses from the identity's own coins (BIP-84 and BIP-86 addresses Warden
 * handed out, confirmed to the configured depth), change to a fresh BIP-84 internal address.
 */
export const sendOperation = {
  name: 'bitcoin.send',
  protocol: 'bitcoin',
  action: 'send',
  capability: 'bitcoin:send',
  signer: 'bitcoin-psbt',
  http: { path: '/v1/bitcoin/send' },
  title: 'Send bitcoin from the identity’s coins',
  description:
    'Builds, signs and broadcasts a transaction paying one address (`to`, `amount_sat`) or several (`outputs`) ' +
    'from the identity’s confirmed coins, with change to a fresh internal address, RBF signalled and an ' +
    'anti-fee-sniping locktime. The fee rate is `feerate` (sat/vB) or the node’s estimate; the fee counts ' +
    'against the budgets with the amount. The transaction is judged like any PSBT before it is signed, and the ' +
    'send is done only once the node shows it (mempool or block). With `amount_jitter` (the recipient accepts ' +
    'a range) and a policy that opts in, a random amount in the range is paid, drawn before judgement.',
  requestSchema,
  resultSchema,
  parse: (body) => parseSendRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: sendDigest,
  toIntent: (p, ctx) => sendIntent(ctx.identity, p, ctx as Parameters<typeof sendIntent>[2]),
  review(_p, intent) {
    const d = intent.detail as SendDetail;
    const paid = d.outputs.map((o) => `${o.amountSat} sat to ${o.address}`).join(', ');
    // The approver sees the very amount that will be paid, and that it was drawn.
    const j = d.amountJitter;
    const drawn = j ? ` (asked ${j.requestedSat} sat; jittered within ${j.minSat}–${j.maxSat})` : '';
    return {
      summary: `Send ${paid}${drawn} on Bitcoin ${d.network}, fee at most ${d.judgedFee} sat`,
      payload: {
        network: d.network,
        outputs: d.outputs.map((o) => ({ address: o.address, amountSat: o.amountSat })),
        ...(j ? { amountJitter: j } : {}),
        maxFeeSat: d.judgedFee,
        feeRateMsatPerVb: d.feeRateMsatPerVb,
        changeToOwnInternalAddress: d.change,
      },
    };
  },
  encode,
  decode,
  execute: (p, intent, ctx) => executeSend(p, intent, ctx),
} satisfies Operation<SendRequest, BitcoinBackend, 'bitcoin-psbt', BitcoinDb>;
