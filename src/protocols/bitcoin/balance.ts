/**
 * `bitcoin.balance`: the identity's coins on the addresses Warden handed out, by what they may be
 * used for: spendable (confirmed to `min_confirmations`, not locked by a send in flight),
 * confirming (in a block, not yet deep enough: a reorg can undo it), unconfirmed (mempool: a
 * double spend can undo it) and locked. Reading marks the addresses seen paid as used (the gap
 * limit counts from the last used one).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { utf8 } from '../../core/bytes.ts';
import { parseHostile, readBody } from '../../core/validate.ts';
import type { Operation } from '../operation.ts';
import { accountsOf } from './accounts.ts';
import { type BitcoinBackend, requireChain } from './backend.ts';
import { failedWith } from './outcome.ts';
import { walletView } from './send/intent.ts';
import { storedCodec } from './stored.ts';
import type { BitcoinDb } from './tables.ts';
import { markUsed } from './wallet/address-book.ts';
import { total } from './wallet/coins.ts';

export type BalanceRequest = Record<string, never>;

export function parseBalanceRequest(body: unknown): BalanceRequest {
  return parseHostile(() => {
    readBody(body ?? {}, [] as const);
    return {};
  });
}

const DIGEST = bytesToHex(sha256(utf8('bitcoin.balance')));
const sat = z.string().regex(/^[0-9]+$/);

const { encode, decode } = storedCodec('balance', () => ({}), parseBalanceRequest);

export const balanceOperation = {
  name: 'bitcoin.balance',
  protocol: 'bitcoin',
  action: 'balance',
  capability: 'bitcoin:balance',
  signer: 'none',
  publishesNothing: true,
  http: { path: '/v1/bitcoin/balance' },
  title: 'The identity’s Bitcoin balance',
  description:
    'The coins on the addresses Warden handed out to the identity, in sat: spendable (confirmed to the ' +
    'configured depth and not held by a send in flight), confirming, unconfirmed (mempool) and locked.',
  requestSchema: Object.freeze({ ...z.toJSONSchema(z.strictObject({})), title: 'bitcoin.balance request' }),
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
  idempotencyKey: () => null,
  digest: () => DIGEST,
  async toIntent(_p, ctx) {
    const accounts = accountsOf(ctx.publicKeys);
    return {
      protocol: 'bitcoin',
      action: 'balance',
      identity: ctx.identity,
      // Moves nothing: its own asset, so that no rule about payments in btc counts it.
      asset: 'btc:balance',
      amount: 0n,
      destinations: [],
      maxFee: 0n,
      feeAsset: 'btc',
      payloadDigest: DIGEST,
      idempotencyKey: null,
      facets: { network: accounts.network },
      detail: { network: accounts.network },
    };
  },
  review: (_p, intent) => ({
    summary: `Read the Bitcoin balance on ${String(intent.detail?.network)}`,
    payload: { network: intent.detail?.network ?? null },
  }),
  encode,
  decode,
  async execute(_p, _intent, ctx) {
    try {
      const accounts = accountsOf(ctx.publicKeys);
      const chain = requireChain(ctx.backend, accounts.network, ctx.identity);
      const min = ctx.backend!.minConfirmations;
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
