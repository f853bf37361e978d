/**
 * `bitcoin.balance`: the identity's coins on the addresses Warden handed out, by what they may be
 * used for: spendable (confirmed to `min_confirmations`, not locked by a send in flight),
 * confirming (in a block, not yet deep enough: a reorg can undo it), unconfirmed (mempool: a
 * double spend can undo it) and locked. Reading marks the addresses seen paid as used (the gap
 * limit counts from the last used one).
 *
 * Body: `{ min_confirmations?: 1..1000, idempotencyKey? }`. A depth deeper than the configured one
 * reads what is final enough for the caller (an exchange waiting for 6); a shallower one is refused,
 * since "spendable" would then promise coins a send will not use.
 */
import { z } from 'zod';
import { WardenError } from '../../core/errors.ts';
import { IDEMPOTENCY_KEY, optionalIdempotencyKey, parseHostile, readBody } from '../../core/validate.ts';
import { requestDigest } from '../no-spend.ts';
import type { Operation } from '../operation.ts';
import { storedCodec } from '../stored.ts';
import { accountsOf } from './accounts.ts';
import { type BitcoinBackend, requireBackend, requireChain } from './backend.ts';
import { bitcoinNoSpendIntent } from './no-spend.ts';
import { failedWith } from './outcome.ts';
import { walletView } from './send/intent.ts';
import type { BitcoinDb } from './tables.ts';
import { markUsed } from './wallet/address-book.ts';
import { total } from './wallet/coins.ts';

export const MAX_BALANCE_DEPTH = 1_000;

export interface BalanceRequest {
  /** The depth that counts as confirmed; null: the configured `min_confirmations`. */
  minConfirmations: number | null;
  idempotencyKey: string | null;
}

export function parseBalanceRequest(body: unknown): BalanceRequest {
  return parseHostile(() => {
    const get = readBody(body === undefined ? {} : body, ['min_confirmations', 'idempotencyKey'] as const);
    const depth = get('min_confirmations') ?? null;
    if (
      depth !== null &&
      (!Number.isSafeInteger(depth) || (depth as number) < 1 || (depth as number) > MAX_BALANCE_DEPTH)
    )
      throw new WardenError(
        'INVALID_REQUEST',
        `min_confirmations must be a whole number of blocks from 1 to ${MAX_BALANCE_DEPTH}`,
        { field: 'min_confirmations' },
      );
    return {
      minConfirmations: depth as number | null,
      idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')),
    };
  });
}

const digestOf = (p: BalanceRequest) =>
  requestDigest('bitcoin.balance', { minConfirmations: p.minConfirmations });
const sat = z.string().regex(/^[0-9]+$/);

/** The depth the read counts as confirmed: the request's, never shallower than the configured one. */
function depthOf(p: BalanceRequest, backend: BitcoinBackend): number {
  const configured = backend.minConfirmations;
  if (p.minConfirmations === null) return configured;
  if (p.minConfirmations < configured)
    throw new WardenError(
      'INVALID_REQUEST',
      `min_confirmations ${p.minConfirmations} is below the configured ${configured}: a send would not use those coins`,
      { field: 'min_confirmations', configured },
    );
  return p.minConfirmations;
}

const { encode, decode } = storedCodec(
  'balance',
  (p: BalanceRequest) => ({ min_confirmations: p.minConfirmations, idempotencyKey: p.idempotencyKey }),
  parseBalanceRequest,
);

export const balanceOperation = {
  name: 'bitcoin.balance',
  protocol: 'bitcoin',
  action: 'balance',
  capability: 'bitcoin:balance',
  signer: 'none',
  publishesNothing: true,
  readOnly: true,
  http: { path: '/v1/bitcoin/balance' },
  title: 'The identity’s Bitcoin balance',
  description:
    'The coins on the addresses Warden handed out to the identity, in sat: spendable (confirmed to the ' +
    'configured depth and not held by a send in flight), confirming, unconfirmed (mempool) and locked.',
  requestSchema: Object.freeze({
    ...z.toJSONSchema(
      z.strictObject({
        min_confirmations: z.number().int().min(1).max(MAX_BALANCE_DEPTH).nullable().optional(),
        idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional(),
      }),
    ),
    title: 'bitcoin.balance request',
  }),
  resultSchema: Object.freeze({
    ...z.toJSONSchema(
      z.object({
        network: z.string(),
        tip: z.number().int(),
        minConfirmations: z.number().int(),
        spendableSat: sat,
        confirmingSat: sat,
        unconfirmedSat: sat,
        lockedSat: sat,
        coins: z.number().int(),
      }),
    ),
    title: 'bitcoin.balance result',
  }),
  parse: (body) => parseBalanceRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: digestOf,
  async toIntent(p, ctx) {
    const accounts = accountsOf(ctx.publicKeys);
    const depth = depthOf(p, requireBackend(ctx.backend, accounts.network));
    return bitcoinNoSpendIntent(ctx, {
      action: 'balance',
      asset: 'btc:balance',
      digest: digestOf(p),
      idempotencyKey: p.idempotencyKey,
      detail: { minConfirmations: depth },
    });
  },
  review: (_p, intent) => ({
    summary: `Read the Bitcoin balance on ${String(intent.detail?.network)}, confirmed at ${String(intent.detail?.minConfirmations)} blocks`,
    payload: {
      network: intent.detail?.network ?? null,
      minConfirmations: intent.detail?.minConfirmations ?? null,
    },
  }),
  encode,
  decode,
  async execute(p, _intent, ctx) {
    try {
      const accounts = accountsOf(ctx.publicKeys);
      const chain = requireChain(ctx.backend, accounts.network, ctx.identity);
      const min = depthOf(p, ctx.backend!);
      const view = await walletView(chain, ctx.tables, ctx.identity, min);
      await markUsed(ctx.tables, ctx.identity, view.used);
      return {
        status: 'done',
        result: {
          network: accounts.network,
          tip: view.tip,
          minConfirmations: min,
          spendableSat: total(view.spendable).toString(),
          confirmingSat: total(view.confirming).toString(),
          unconfirmedSat: total(view.unconfirmed).toString(),
          lockedSat: total(view.locked).toString(),
          coins:
            view.spendable.length + view.confirming.length + view.unconfirmed.length + view.locked.length,
        },
      };
    } catch (err) {
      return failedWith(err, 'the balance could not be read');
    }
  },
} satisfies Operation<BalanceRequest, BitcoinBackend, 'none', BitcoinDb>;
