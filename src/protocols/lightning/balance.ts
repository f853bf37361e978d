/**
 * `lightning.balance`: the channel balance of the identity's Lightning node, in msat: what it can
 * spend (local), what it can receive (remote), its share of HTLCs not yet settled, and its side of
 * channels still opening. The node is the operator's: identities that share it see the same
 * numbers, which are not theirs alone; what an identity may still spend is its policy's budgets
 * (GET /v1/ledger shows what it booked).
 *
 * Body: `{ idempotencyKey? }`.
 */
import { z } from 'zod';
import { IDEMPOTENCY_KEY, optionalIdempotencyKey, parseHostile, readBody } from '../../core/validate.ts';
import { requestDigest } from '../no-spend.ts';
import type { Operation } from '../operation.ts';
import { failedWith } from '../outcome.ts';
import { storedCodec } from '../stored.ts';
import type { LightningModuleBackend } from './backend/connect.ts';
import { withIdentityBackend } from './identity.ts';
import { lightningNoSpendIntent } from './no-spend.ts';
import type { LightningDb } from './tables.ts';

const NAME = 'lightning.balance';

export interface LightningBalanceRequest {
  idempotencyKey: string | null;
}

export function parseLightningBalanceRequest(body: unknown): LightningBalanceRequest {
  return parseHostile(() => {
    const get = readBody(body === undefined ? {} : body, ['idempotencyKey'] as const);
    return { idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')) };
  });
}

const digest = () => requestDigest(NAME, {});
const msat = z.string().regex(/^[0-9]+$/);

const { encode, decode } = storedCodec(
  'Lightning balance',
  (p: LightningBalanceRequest) => ({ idempotencyKey: p.idempotencyKey }),
  parseLightningBalanceRequest,
);

export const lightningBalanceOperation = {
  name: NAME,
  protocol: 'lightning',
  action: 'read',
  capability: 'lightning:balance',
  signer: 'lightning-credential',
  publishesNothing: true,
  readOnly: true,
  http: { path: '/v1/lightning/balance' },
  title: 'The Lightning node’s channel balance',
  description:
    'The channel balance of the identity’s Lightning node, in msat: local (what it can spend), remote (what ' +
    'it can receive), unsettled local (in HTLCs not yet settled) and pending open local (channels still ' +
    'opening). The node may be shared by several identities: this is the node’s balance, not a budget; what ' +
    'the identity may still spend is set by its policy.',
  requestSchema: Object.freeze({
    ...z.toJSONSchema(
      z.strictObject({ idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional() }),
    ),
    title: `${NAME} request`,
  }),
  resultSchema: Object.freeze({
    ...z.toJSONSchema(
      z.object({
        network: z.string(),
        localMsat: msat,
        remoteMsat: msat,
        unsettledLocalMsat: msat,
        pendingOpenLocalMsat: msat,
        shared: z.literal(true).describe('the node’s balance, shared by every identity that uses it'),
      }),
    ),
    title: `${NAME} result`,
  }),
  parse: (body) => parseLightningBalanceRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest,
  toIntent: async (p, ctx) =>
    lightningNoSpendIntent(ctx, {
      action: 'read',
      asset: 'btc:balance',
      digest: digest(),
      idempotencyKey: p.idempotencyKey,
      detail: {},
    }),
  review: (_p, intent) => ({
    summary: `Read the Lightning node’s channel balance (${String(intent.detail.network)})`,
    payload: { network: intent.detail.network ?? null },
  }),
  encode,
  decode,
  async execute(_p, _intent, ctx) {
    try {
      const b = await withIdentityBackend(ctx, (ln) => ln.balance());
      return {
        status: 'done',
        result: {
          network: ctx.publicKeys.network,
          localMsat: b.localMsat.toString(),
          remoteMsat: b.remoteMsat.toString(),
          unsettledLocalMsat: b.unsettledLocalMsat.toString(),
          pendingOpenLocalMsat: b.pendingOpenLocalMsat.toString(),
          shared: true,
        },
      };
    } catch (err) {
      return failedWith(err, 'the balance could not be read');
    }
  },
} satisfies Operation<LightningBalanceRequest, LightningModuleBackend, 'lightning-credential', LightningDb>;
