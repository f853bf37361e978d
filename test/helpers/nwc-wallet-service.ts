/**
 * An upstream NWC wallet for Warden's NIP-47 client (src/protocols/lightning/backend/nwc-wallet.ts):
 * the reference wallet service of @getalby/sdk (`NWCWalletService`, unmodified, on a real relay),
 * whose handlers pay and make invoices through a real LDK node (test/helpers/ldk-node.ts). Only the
 * handlers are ours, and they only translate: the payments, fees and preimages are LDK's.
 *
 * `faults` lets a test make the wallet misbehave, one answer at a time: stay silent (its answer
 * lost), answer with a given response (a lie), or pay and answer with a wrong preimage.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as ldk from 'lightningdevkit';
import { generateSecretKey, getPublicKey } from 'nostr-tools';
import { amountOf, descriptionOf, parseInvoice } from './ldk-front.ts';
import { outcomeOf } from './ldk-node.ts';
import { hexOf, type LdkPeer } from './ldk-peer.ts';
import { NWCWalletService, NWCWalletServiceKeyPair } from './nwc-clients.ts';

type Response = { result?: unknown; error?: { code: string; message: string } };
export type WalletMethod =
  | 'pay_invoice'
  | 'pay_keysend'
  | 'make_invoice'
  | 'lookup_invoice'
  | 'get_balance'
  | 'get_info';

export interface WalletFaults {
  /** The next answers to `method` (one per request): silent (nothing sent after acting), or this response. */
  next: Map<WalletMethod, Array<'silent' | 'bad_preimage' | Response>>;
}

export interface TestNwcWallet {
  walletPubkey: string;
  /** The connection URI of a client secret, as the wallet would hand it out. */
  uri: string;
  clientSecret: Uint8Array;
  /** The URI of a connection the wallet revoked: it answers every request UNAUTHORIZED. */
  revokedUri: string;
  faults: WalletFaults;
  /** Every request the wallet handled, by method (what Warden asked for). */
  requests: Array<{ method: WalletMethod; params: unknown }>;
  stop(): void;
}

const never = <T>() => new Promise<T>(() => {});

export async function startNwcWallet(
  node: LdkPeer,
  relayUrl: string,
  height: () => number,
): Promise<TestNwcWallet> {
  const walletSecret = generateSecretKey();
  const walletPubkey = getPublicKey(walletSecret);
  const clientSecret = generateSecretKey();
  const service = new NWCWalletService({ relayUrls: [relayUrl] });
  const faults: WalletFaults = { next: new Map() };
  const requests: TestNwcWallet['requests'] = [];
  const outgoing = new Map<
    string,
    { state: 'pending' | 'settled' | 'failed'; amount: bigint; fee: bigint; preimage: string }
  >();
  const incoming = new Map<string, ldk.Bolt11Invoice>();

  /** The fault for this request of `method`, if one is queued. */
  const fault = (method: WalletMethod, params: unknown) => {
    requests.push({ method, params });
    return faults.next.get(method)?.shift();
  };

  async function pay(invoiceText: string, amount: number | undefined): Promise<Response> {
    const invoice = parseInvoice(invoiceText);
    if (!invoice) return { error: { code: 'OTHER', message: 'not an invoice' } };
    const hash = hexOf(invoice.payment_hash());
    const amountMsat = amountOf(invoice) || BigInt(amount ?? 0);
    // NIP-47 carries no fee limit: the wallet pays with its own (here: a generous one).
    const id = node.send(invoice, 100_000_000n, amountOf(invoice) === 0n ? BigInt(amount ?? 0) : null);
    return followPayment(id, hash, amountMsat);
  }

  /** pay_keysend: LDK's spontaneous payment with the preimage the client chose (one hop). */
  async function keysend(request: { amount: number; pubkey: string; preimage?: string }): Promise<Response> {
    if (!request.preimage || !/^[0-9a-f]{64}$/.test(request.preimage))
      return { error: { code: 'OTHER', message: 'this wallet pays keysend only with the preimage given' } };
    const preimage = Buffer.from(request.preimage, 'hex');
    const hash = bytesToHex(sha256(preimage));
    const id = node.keysend(
      Buffer.from(request.pubkey, 'hex'),
      preimage,
      BigInt(request.amount),
      100_000_000n,
    );
    return followPayment(id, hash, BigInt(request.amount));
  }

  /** A payment LDK started (null: it refused to): its end as NIP-47 answers it, kept for lookups. */
  async function followPayment(id: string | null, hash: string, amountMsat: bigint): Promise<Response> {
    if (id === null) {
      outgoing.set(hash, { state: 'failed', amount: amountMsat, fee: 0n, preimage: '' });
      return { error: { code: 'PAYMENT_FAILED', message: 'no route' } };
    }
    outgoing.set(hash, { state: 'pending', amount: amountMsat, fee: 0n, preimage: '' });
    const outcome = await outcomeOf(node, id, 60_000);
    if (outcome.state === 'failed') {
      outgoing.set(hash, { state: 'failed', amount: amountMsat, fee: 0n, preimage: '' });
      return { error: { code: 'PAYMENT_FAILED', message: `LDK: ${outcome.reason}` } };
    }
    outgoing.set(hash, {
      state: 'settled',
      amount: amountMsat,
      fee: outcome.feeMsat,
      preimage: outcome.preimage,
    });
    return { result: { preimage: outcome.preimage, fees_paid: Number(outcome.feeMsat) } };
  }

  function transaction(hash: string): Response {
    const out = outgoing.get(hash);
    if (out)
      return {
        result: {
          type: 'outgoing',
          state: out.state,
          invoice: '',
          payment_hash: hash,
          preimage: out.preimage,
          amount: Number(out.amount),
          fees_paid: Number(out.fee),
          created_at: Math.floor(Date.now() / 1000),
        },
      };
    const inv = incoming.get(hash);
    if (!inv) return { error: { code: 'NOT_FOUND', message: 'no such invoice' } };
    const paid = node.claimed.get(hash);
    const preimage = node.cm.get_payment_preimage(inv.payment_hash(), inv.payment_secret());
    return {
      result: {
        type: 'incoming',
        state: paid === undefined ? 'pending' : 'settled',
        invoice: inv.to_str(),
        description: descriptionOf(inv),
        payment_hash: hash,
        preimage:
          paid !== undefined && preimage instanceof ldk.Result_ThirtyTwoBytesAPIErrorZ_OK
            ? hexOf(preimage.res)
            : '',
        amount: Number(amountOf(inv)),
        fees_paid: 0,
        created_at: Math.floor(Date.now() / 1000),
      },
    };
  }

  /** Runs the honest handler, then applies a queued fault to its answer. */
  async function answer(
    method: WalletMethod,
    params: unknown,
    honest: () => Promise<Response>,
  ): Promise<never> {
    const f = fault(method, params);
    if (f !== undefined && f !== 'silent' && f !== 'bad_preimage')
      return { result: undefined, ...f } as never;
    const out = await honest();
    if (f === 'silent') return never();
    if (f === 'bad_preimage' && out.result)
      return {
        result: { ...(out.result as object), preimage: bytesToHex(generateSecretKey()) },
        error: undefined,
      } as never;
    return { result: out.result, error: out.error } as never;
  }

  const unsubscribe = await service.subscribe(
    new NWCWalletServiceKeyPair(bytesToHex(walletSecret), getPublicKey(clientSecret)),
    {
      getInfo: () =>
        answer('get_info', {}, async () => ({
          result: {
            alias: 'ldk',
            color: '#000000',
            pubkey: node.idHex,
            network: 'regtest',
            block_height: height(),
            block_hash: '00'.repeat(32),
            methods: [
              'pay_invoice',
              'pay_keysend',
              'make_invoice',
              'lookup_invoice',
              'get_balance',
              'get_info',
            ],
          },
        })),
      getBalance: () =>
        answer('get_balance', {}, async () => ({
          result: {
            balance: Number(
              node.usableChannels().reduce((sum, c) => sum + c.get_outbound_capacity_msat(), 0n),
            ),
          },
        })),
      payInvoice: (request) => answer('pay_invoice', request, () => pay(request.invoice, request.amount)),
      payKeysend: (request) => answer('pay_keysend', request, () => keysend(request)),
      makeInvoice: (request) =>
        answer('make_invoice', request, async () => {
          const inv = node.invoice(BigInt(request.amount), request.description ?? '', request.expiry ?? 3600);
          incoming.set(hexOf(inv.payment_hash()), inv);
          return transaction(hexOf(inv.payment_hash()));
        }),
      lookupInvoice: (request) =>
        answer('lookup_invoice', request, async () => transaction(request.payment_hash ?? '')),
    },
  );

  // A revoked connection: a wallet knows its key and refuses it (as Alby Hub does an unknown app).
  const revokedSecret = generateSecretKey();
  const refuse = async () =>
    ({ result: undefined, error: { code: 'UNAUTHORIZED', message: 'revoked' } }) as never;
  const unsubscribeRevoked = await service.subscribe(
    new NWCWalletServiceKeyPair(bytesToHex(walletSecret), getPublicKey(revokedSecret)),
    { getInfo: refuse, getBalance: refuse, payInvoice: refuse, makeInvoice: refuse, lookupInvoice: refuse },
  );
  const uriOf = (secret: Uint8Array) =>
    `nostr+walletconnect://${walletPubkey}?relay=${encodeURIComponent(relayUrl)}&secret=${bytesToHex(secret)}`;
  return {
    walletPubkey,
    uri: uriOf(clientSecret),
    clientSecret,
    revokedUri: uriOf(revokedSecret),
    faults,
    requests,
    stop() {
      unsubscribe();
      unsubscribeRevoked();
      service.close();
    },
  };
}
