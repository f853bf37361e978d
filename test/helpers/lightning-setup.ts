import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { WardenError } from '../../src/core/errors.ts';
import { netForEndpoints } from '../../src/protocols/backend-endpoints.ts';
import type { PaymentState } from '../../src/protocols/lightning/backend/backend.ts';
import { startClnFront } from './cln-rest-front.ts';
import { startTestGateway } from './gateway.ts';
import { type ChannelPlan, type LightningNodes, startLightningNodes } from './ldk-node.ts';
import { hexOf, type LdkPeer } from './ldk-peer.ts';
import { startLndFront } from './lnd-rest-front.ts';

/**
 * The set-up the Lightning tests share: real LDK nodes on a bcoin regtest chain, a REST front
 * (lnd's or Core Lightning's shapes) over Warden's node with a fresh credential, a gateway whose
 * identities have that credential sealed, and the small readers of invoices and answers.
 */

/** A pays B one hop away and C two hops away, through B. */
export const A_B_C: readonly ChannelPlan[] = [
  ['A', 'B', 1_000_000n],
  ['B', 'C', 1_000_000n],
];
/** B's own channel to A: what B pays A's invoices with (A–B is all A's). */
export const B_TO_A: ChannelPlan = ['B', 'A', 1_000_000n];

/** Nodes A, B and C with `channels` open and ready. */
export async function startNodesABC(channels: readonly ChannelPlan[] = A_B_C) {
  const ln = await startLightningNodes(['A', 'B', 'C'], channels);
  return { ln, A: ln.node('A'), B: ln.node('B'), C: ln.node('C') };
}

/** The LND REST front over `node` (Warden's), following `ln`'s chain, and the macaroon it takes. */
export async function startLndFrontOver(ln: LightningNodes, node: LdkPeer) {
  const macaroon = new Uint8Array(randomBytes(32));
  const front = await startLndFront({
    node,
    macaroon,
    chain: { height: () => ln.bitcoin.height(), tipHash: () => ln.bitcoin.full.chain.tip.rhash() },
  });
  return { macaroon, front };
}

/** A rune as CLN hands one out: base64url text, carried as its UTF-8 bytes. */
export const newRune = () => new Uint8Array(Buffer.from(randomBytes(48).toString('base64url')));

/** The CLN REST front over `node` (Warden's), following `ln`'s chain, and the rune it takes. */
export async function startClnFrontOver(ln: LightningNodes, node: LdkPeer) {
  const rune = newRune();
  const front = await startClnFront({ node, rune, chain: { height: () => ln.bitcoin.height() } });
  return { rune, front };
}

/** Where a REST client of the backend tests reaches its front, and as whom: identity bot, regtest. */
export const clientAt = (url: string) =>
  ({ url, net: netForEndpoints([url]), identity: 'bot', network: 'regtest' }) as const;

type TestGatewayOptions = Parameters<typeof startTestGateway>[0];

/**
 * A test gateway paying through `lightning`, `credential` sealed in every identity's Lightning
 * slot as an operator seals it. Rate limits are wide unless given: the tests count payments, not
 * requests.
 */
export async function startLightningGateway(
  options: Omit<TestGatewayOptions, 'protocols'> & {
    lightning: unknown;
    credential: { kind: 'macaroon' | 'rune' | 'nwc'; bytes: Uint8Array };
  },
) {
  const { lightning, credential, ...rest } = options;
  const g = await startTestGateway({
    rateLimits: () => ({ max: 100_000, windowMs: 60_000 }),
    ...rest,
    protocols: { lightning },
  });
  // A copy each: the vault zeroes what it is handed.
  for (const identity of options.identities)
    await g.warden.setCredential(identity, credential.kind, Uint8Array.from(credential.bytes));
  return g;
}

/** A real invoice of `payee` (LDK's), and its payment hash as LDK reads it (not Warden's decoder). */
export function invoiceOf(payee: LdkPeer, msat: bigint | null, description = 'test', expirySeconds = 600) {
  const invoice = payee.invoice(msat, description, expirySeconds);
  return { bolt11: invoice.to_str(), hash: hexOf(invoice.payment_hash()) };
}

/** Awaits `promise`, which must fail with a WardenError of `code`; returns the error. */
export async function rejects(promise: Promise<unknown>, code: string): Promise<WardenError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WardenError, String(err));
    assert.equal(err.code, code, `${err.code}: ${err.message} ${JSON.stringify(err.details)}`);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** A payment's state without its hash, to compare with an expected outcome. */
export function withoutHash(state: PaymentState) {
  const { paymentHash: _, ...rest } = state;
  return rest;
}

/** An HTTP answer for a failing assertion's message. */
export const show = (r: { status: number; body: unknown }) =>
  `${r.status} ${JSON.stringify(r.body).slice(0, 500)}`;

/**
 * A keysend's HTTP answer that must be `done`, paid to `payee` with `amountMsat`: the preimage
 * Warden drew opens the hash, and the payee's node was paid by that hash. Returns the request.
 */
export function assertKeysendDone(r: { status: number; body: any }, payee: LdkPeer, amountMsat: bigint) {
  assert.equal(r.status, 200, show(r));
  const { request } = r.body;
  assert.equal(request.status, 'done', show(r));
  const { paymentHash, preimage } = request.result;
  assert.equal(request.result.payee, payee.idHex);
  assert.equal(bytesToHex(sha256(hexToBytes(preimage))), paymentHash, 'the preimage opens the hash');
  assert.equal(payee.claimed.get(paymentHash), amountMsat);
  return request;
}
