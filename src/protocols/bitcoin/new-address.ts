/**
 * `bitcoin.new_address`: a receive address never handed out before, on the identity's BIP-84
 * (P2WPKH, the default) or BIP-86 (P2TR) account. Indexes are taken one at a time per identity and
 * recorded with the request; no more than GAP_LIMIT stand unused after the last used one (a
 * restored wallet would not look past them): at the limit, the node is asked whether they were
 * used since, and only if none was is the request refused (ADDRESS_GAP_LIMIT).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { utf8 } from '../../core/bytes.ts';
import { WardenError } from '../../core/errors.ts';
import { KeyedMutex } from '../../core/mutex.ts';
import { IDEMPOTENCY_KEY, optionalIdempotencyKey, parseHostile, readBody } from '../../core/validate.ts';
import type { Operation } from '../operation.ts';
import { storedCodec } from '../stored.ts';
import { type AccountName, accountsOf, fullPath, scriptOfKey } from './accounts.ts';
import { addressOfScript } from './addresses.ts';
import type { BitcoinBackend } from './backend.ts';
import { bitcoinNoSpendIntent } from './no-spend.ts';
import { failedWith } from './outcome.ts';
import type { BitcoinDb } from './tables.ts';
import {
  GAP_LIMIT,
  issuedAddresses,
  markUsed,
  nextIndex,
  recordAddress,
  unusedAfterLastUsed,
} from './wallet/address-book.ts';

export interface NewAddressRequest {
  type: 'p2wpkh' | 'p2tr';
  idempotencyKey: string | null;
}

const ACCOUNT: Record<NewAddressRequest['type'], AccountName> = { p2wpkh: 'bip84', p2tr: 'bip86' };

export function parseNewAddressRequest(body: unknown): NewAddressRequest {
  return parseHostile(() => {
    const get = readBody(body === undefined ? {} : body, ['type', 'idempotencyKey'] as const);
    const type = get('type') ?? 'p2wpkh';
    if (type !== 'p2wpkh' && type !== 'p2tr')
      throw new WardenError('INVALID_REQUEST', 'type is p2wpkh (the default) or p2tr', { field: 'type' });
    return { type, idempotencyKey: optionalIdempotencyKey(get('idempotencyKey')) };
  });
}

const issuing = new KeyedMutex();

const digestOf = (p: NewAddressRequest) => bytesToHex(sha256(utf8(`bitcoin.new_address:${p.type}`)));

/** Whether any of `addresses` holds a coin now (the gap is counted from the last used one). */
async function refreshUsed(
  backend: BitcoinBackend | null,
  network: string,
  identity: string,
  tables: BitcoinDb,
  addresses: readonly string[],
): Promise<void> {
  if (backend === null || !backend.networks.includes(network as never)) return;
  const chain = backend.chain(network, identity);
  const used: string[] = [];
  for (const a of addresses) if ((await chain.utxos(a)).length > 0) used.push(a);
  await markUsed(tables, identity, used);
}

const { encode, decode } = storedCodec(
  'new-address',
  (p: NewAddressRequest) => ({ type: p.type, idempotencyKey: p.idempotencyKey }),
  parseNewAddressRequest,
);

export const newAddressOperation = {
  name: 'bitcoin.new_address',
  protocol: 'bitcoin',
  action: 'new_address',
  capability: 'bitcoin:new_address',
  signer: 'none',
  publishesNothing: true,
  http: { path: '/v1/bitcoin/new-address' },
  title: 'A fresh Bitcoin receive address',
  description:
    'Hands out a receive address of the identity never handed out before: BIP-84 P2WPKH (type p2wpkh, the ' +
    'default) or BIP-86 P2TR (p2tr), with its derivation path. At most 20 stand unused after the last used ' +
    'one (the gap limit a wallet restored from the seed looks through).',
  requestSchema: Object.freeze({
    ...z.toJSONSchema(
      z.strictObject({
        type: z.enum(['p2wpkh', 'p2tr']).nullable().optional(),
        idempotencyKey: z.string().regex(IDEMPOTENCY_KEY).nullable().optional(),
      }),
    ),
    title: 'bitcoin.new_address request',
  }),
  resultSchema: Object.freeze({
    ...z.toJSONSchema(
      z.object({
        address: z.string(),
        type: z.enum(['p2wpkh', 'p2tr']),
        index: z.number().int(),
        path: z.string(),
      }),
    ),
    title: 'bitcoin.new_address result',
  }),
  parse: (body) => parseNewAddressRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: digestOf,
  toIntent: async (p, ctx) =>
    bitcoinNoSpendIntent(ctx, {
      action: 'new_address',
      asset: 'btc:address',
      digest: digestOf(p),
      idempotencyKey: p.idempotencyKey,
      detail: { type: p.type },
    }),
  review: (p, intent) => ({
    summary: `A fresh ${p.type} receive address on Bitcoin ${String(intent.detail?.network)}`,
    payload: { type: p.type, network: intent.detail?.network ?? null },
  }),
  encode,
  decode,
  async execute(p, _intent, ctx) {
    const { identity, tables } = ctx;
    const account = ACCOUNT[p.type];
    return issuing.run(identity, async () => {
      try {
        const accounts = accountsOf(ctx.publicKeys);
        let unused = unusedAfterLastUsed(await issuedAddresses(tables, identity), account);
        if (unused.length >= GAP_LIMIT) {
          await refreshUsed(
            ctx.backend,
            accounts.network,
            identity,
            tables,
            unused.map((a) => a.address),
          );
          unused = unusedAfterLastUsed(await issuedAddresses(tables, identity), account);
        }
        if (unused.length >= GAP_LIMIT)
          return {
            status: 'failed',
            code: 'ADDRESS_GAP_LIMIT',
            message: `${unused.length} receive addresses are handed out and unused; use one first`,
          };
        const index = await nextIndex(tables, identity, account, 0);
        const address = addressOfScript(
          scriptOfKey(accounts, { account, chain: 0, index }),
          accounts.network,
        )!;
        await recordAddress(
          tables,
          identity,
          { account, chain: 0, index, address },
          { requestId: ctx.requestId, at: new Date().toISOString() },
        );
        const path = fullPath(accounts, { account, chain: 0, index })
          .map((n, i) => (i < 3 ? `${n - 0x80000000}'` : String(n)))
          .join('/');
        return { status: 'done', result: { address, type: p.type, index, path: `m/${path}` } };
      } catch (err) {
        return failedWith(err, 'no address was handed out');
      }
    });
  },
} satisfies Operation<NewAddressRequest, BitcoinBackend, 'none', BitcoinDb>;
