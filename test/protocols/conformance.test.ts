import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Ajv2020Module from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { sql } from 'kysely';
import { startHttpServer } from '../../src/api/http/server.ts';
import { ensureHome } from '../../src/config/home.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { nullLogger } from '../../src/core/logger.ts';
import type { Capability } from '../../src/core/principal.ts';
import { createTokenAudited, setPolicyAudited } from '../../src/gateway/admin.ts';
import { Gateway } from '../../src/gateway/gateway.ts';
import { reviewDocument, reviewHash } from '../../src/gateway/intent-codec.ts';
import { Warden } from '../../src/gateway/warden.ts';
import type { IdentityView } from '../../src/keys/view.ts';
import { addressOfScript, scriptOfAddress } from '../../src/protocols/bitcoin/addresses.ts';
import { bitcoinModuleConfig } from '../../src/protocols/bitcoin/config.ts';
import { lightningModuleConfig } from '../../src/protocols/lightning/config.ts';
import type { AnyOperation } from '../../src/protocols/operation.ts';
import { OPERATIONS } from '../../src/protocols/registry.ts';
import { startBitcoinNode } from '../helpers/bitcoin-node.ts';
import { startEsplora } from '../helpers/esplora.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { fund, HARDHAT_CHAIN_ID, rpcCall, startHardhat } from '../helpers/hardhat.ts';
import { passphrase, TEST_KDF } from '../helpers/home.ts';
import { startLightningNodes } from '../helpers/ldk-node.ts';
import { startLndFront } from '../helpers/lnd-rest-front.ts';
import { scriptAt } from './bitcoin/fixture.ts';
import { identityPsbt } from './bitcoin/identity-psbt.ts';

/**
 * The conformance every operation of the registry passes, whatever its protocol (issue 7, item 8).
 * It iterates OPERATIONS: a new operation gets every check without editing this file, and fails
 * here until it has a sample below. Checks, each over HTTP against a real gateway (and, for EVM, one
 * real Hardhat node, for Bitcoin one bcoin regtest node behind an Esplora API, each for the whole
 * file) where the step is a gateway's:
 *   1. fuzzed input never answers 5xx and never signs (what the parser refuses leaves no row);
 *   2. encode/decode round trip of the parsed request; parse → encode → decode → review equal;
 *   3. digest stability: key order and absent-vs-null do not change it; a changed value does;
 *   4. a dry run writes nothing (request, ledger, audit_log);
 *   5. idempotent replay: one request, booked once; another body under the same key is 409;
 *   6. a held request survives a restart and executes on approval, with the same intent hash;
 *   7. an audit record for each step, carrying the request id;
 *   and the request schema agrees with the parser: whatever the parser accepts, the schema accepts.
 */

type Body = Record<string, unknown>;

interface Sample {
  /** Valid bodies that commit to different things (pairwise different digests); [0] is the default. */
  bodies: Body[];
  /** Valid bodies at random: round trips, digests, and the seeds the fuzz mutates. */
  valid: fc.Arbitrary<Body>;
  /** The body with an idempotency key (default: the `idempotencyKey` field). */
  withKey?: (body: Body, key: string) => Body;
  /**
   * The default body for another identity, when a body commits to the identity's own keys (a
   * PSBT spends its coins): check 6 runs on an identity of its own.
   */
  forIdentity?: (keys: IdentityView) => Body;
  /**
   * What another identity needs before check 6 can end `done` (coins to send, a backend
   * credential sealed), done while its policy still allows everything: `call` is the new
   * gateway's, `token` its agent's; `warden` and `identity` for what only an operator sets.
   */
  prepare?: (call: GatewayCall, token: string, own: { warden: Warden; identity: string }) => Promise<void>;
  /**
   * The request commits to nothing but its name (lightning.balance): one body, so no other body
   * can conflict with it under a key (check 5) and no changed value can change its digest (check 3).
   */
  commitsToNothing?: true;
}

type GatewayCall = (
  method: string,
  path: string,
  o: { token: string; body?: unknown },
) => Promise<{ status: number; body: any }>;

// A fixed clock: the gateway and the local parser agree on "now" (Nostr created_at, SIWE expiry).
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const NOW_S = NOW.getTime() / 1000;
const KEY = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,24}$/);
const optionalKey = fc.oneof(fc.constant(null), KEY);
/** EIP-55 vector, upper- and lower-case spellings: every one a valid recipient. */
const RECIPIENTS = [
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0x52908400098527886e0f7030069857d2e4169ee7',
  '0xDE709F2102306220921060314715629080E2FB77',
  '0x27b1fdb04752bbc536007a920d24acb045561c26',
];
const wei = (min: bigint, max: bigint) => fc.bigInt({ min, max }).map(String);
const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`;

/** One sample per operation name. An operation of the registry without one fails every check. */
const SAMPLES: Record<string, Sample> = {
  'nostr.sign_event': {
    bodies: [
      { kind: 1, content: 'conformance note' },
      { kind: 1, content: 'conformance note', tags: [['t', 'warden']] },
      { kind: 7, content: '+', created_at: NOW_S - 60 },
    ],
    valid: fc.record(
      {
        kind: fc.constantFrom(1, 7, 1111, 30023),
        content: fc.string({ maxLength: 60, unit: 'grapheme' }),
        tags: fc.array(fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 3 }), {
          maxLength: 3,
        }),
        created_at: fc.integer({ min: NOW_S - 3600, max: NOW_S + 3600 }),
        idempotencyKey: optionalKey,
      },
      { requiredKeys: ['kind', 'content'] },
    ),
  },
  'evm.send': {
    bodies: [
      {
        chainId: HARDHAT_CHAIN_ID,
        to: RECIPIENTS[0],
        value: '1000',
        maxFeePerGas: '20000000000',
        maxPriorityFeePerGas: '1',
      },
      {
        chainId: HARDHAT_CHAIN_ID,
        to: RECIPIENTS[0],
        value: '1001',
        maxFeePerGas: '20000000000',
        maxPriorityFeePerGas: '1',
      },
      { chainId: HARDHAT_CHAIN_ID, to: RECIPIENTS[3], value: '1000' },
    ],
    valid: fc.record(
      {
        chainId: fc.constant(HARDHAT_CHAIN_ID),
        to: fc.constantFrom(...RECIPIENTS),
        value: wei(1n, 10n ** 15n),
        // Above any base fee the node will reach here, and the tip never above the cap.
        maxFeePerGas: fc.oneof(fc.constant(null), wei(10n ** 10n, 10n ** 11n)),
        maxPriorityFeePerGas: fc.oneof(fc.constant(null), wei(0n, 10n ** 9n)),
        idempotencyKey: optionalKey,
      },
      { requiredKeys: ['chainId', 'to', 'value'] },
    ),
  },
  'evm.sign_message': {
    bodies: [
      { message: 'conformance: sign this text' },
      { messageHex: '0x01020304' },
      { message: 'conformance: sign this text', chainId: HARDHAT_CHAIN_ID },
    ],
    valid: fc.oneof(
      fc.record(
        {
          message: fc
            .string({ minLength: 1, maxLength: 60 })
            .filter((s) => !/sign in with/i.test(s) && s.trim() !== ''),
          chainId: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2 ** 40 })),
          idempotencyKey: optionalKey,
        },
        { requiredKeys: ['message'] },
      ),
      fc.record(
        {
          // 32 bytes would be a possible hash, refused by policy unless allowed: not a default sample.
          messageHex: fc
            .uint8Array({ minLength: 1, maxLength: 48 })
            .filter((b) => b.length !== 32)
            .map(hex),
          chainId: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2 ** 40 })),
          idempotencyKey: optionalKey,
        },
        { requiredKeys: ['messageHex'] },
      ),
    ),
  },
};

function sampleOf(op: AnyOperation): Sample {
  const sample = SAMPLES[op.name];
  assert.ok(
    sample,
    `operation ${op.name} has no sample in test/protocols/conformance.test.ts: add one, so it is checked like every other`,
  );
  return sample;
}

const withKey = (sample: Sample, body: Body, key: string) =>
  sample.withKey ? sample.withKey(body, key) : { ...body, idempotencyKey: key };

/** The op's parser's verdict on a body: the parsed request, or the WardenError it threw. */
function tryParse(
  op: AnyOperation,
  body: unknown,
): { ok: true; parsed: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, parsed: op.parse(body, NOW) };
  } catch (error) {
    assert.ok(isWardenError(error), `${op.name}: the parser threw a non-WardenError: ${String(error)}`);
    return { ok: false, error };
  }
}

/** What the HTTP front door hands the parser: the JSON round trip of the body, without `identity`. */
function asSubmitted(body: unknown): unknown {
  const wire = JSON.parse(JSON.stringify(body)) as unknown;
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) return wire;
  const { identity: _identity, ...rest } = wire as Body;
  return rest;
}

function schemaProperties(op: AnyOperation): { all: string[]; required: string[] } {
  const schema = op.requestSchema as {
    properties?: Body;
    required?: string[];
    anyOf?: Body[];
    oneOf?: Body[];
  };
  const parts = [schema, ...((schema.anyOf ?? schema.oneOf ?? []) as (typeof schema)[])];
  const all = new Set<string>();
  for (const part of parts) for (const name of Object.keys(part.properties ?? {})) all.add(name);
  return { all: [...all], required: schema.required ?? [] };
}

// ---- hostile bodies ------------------------------------------------------------------------------

function nest(kind: 'array' | 'object', depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

const json = fc.jsonValue({ maxDepth: 3 });
const deep = fc
  .tuple(fc.constantFrom('array' as const, 'object' as const), fc.integer({ min: 20, max: 400 }))
  .map(([kind, depth]) => nest(kind, depth));
const huge = fc
  .tuple(fc.constantFrom('x', 'é', '0', '\u0000', '\u{1F600}'), fc.integer({ min: 1_000, max: 40_000 }))
  .map(([c, n]) => c.repeat(n));

function numbersForStrings(body: Body): Body {
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? Number(v) || v.length : v]),
  );
}

/** Random JSON, and valid bodies mutated once or twice: wrong types, extra fields, huge strings, deep nesting, numbers for strings, a field dropped or null. */
function hostile(op: AnyOperation, sample: Sample): fc.Arbitrary<unknown> {
  const names = schemaProperties(op).all;
  const mutate = (b: Body): fc.Arbitrary<Body> => {
    const field = fc.constantFrom(...new Set([...Object.keys(b), ...names]));
    return fc.oneof(
      fc.tuple(field, json).map(([k, v]) => ({ ...b, [k]: v })),
      fc.tuple(fc.string({ maxLength: 12 }), json).map(([k, v]) => ({ ...b, [k]: v })),
      fc.tuple(field, huge).map(([k, v]) => ({ ...b, [k]: v })),
      fc.tuple(field, deep).map(([k, v]) => ({ ...b, [k]: v })),
      fc.constant(numbersForStrings(b)),
      field.map((k) => Object.fromEntries(Object.entries(b).filter(([name]) => name !== k))),
      field.map((k) => ({ ...b, [k]: null })),
    );
  };
  const mutated = sample.valid.chain(mutate).chain((b) => fc.oneof(fc.constant(b), mutate(b)));
  return fc.oneof({ weight: 1, arbitrary: json }, { weight: 4, arbitrary: mutated });
}

// ---- the gateway under test ----------------------------------------------------------------------

const node = await startHardhat();
const RPC = new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]);
// The wallet operations read a real chain: bcoin on regtest, with a node's fee estimates.
const bitcoinNode = await startBitcoinNode();
const MINER = scriptAt(84, 0, 99);
await bitcoinNode.activateSegwit(MINER);
const esplora = await startEsplora(bitcoinNode, { feeEstimates: { '2': '3', '6': '1.5', '25': '1' } });
const BITCOIN = bitcoinModuleConfig(
  { nodes: { regtest: { api: 'esplora', url: esplora.url } }, min_confirmations: 2 },
  { tor: null, baseDir: '.' },
);
// Lightning pays through the LND REST front (lnd's shapes) over real LDK nodes: A pays, B is paid.
const ln = await startLightningNodes(['A', 'B'], [['A', 'B', 2_000_000n]]);
const MACAROON = new Uint8Array(32).map((_, i) => i + 1);
const lnFront = await startLndFront({
  node: ln.node('A'),
  macaroon: MACAROON,
  chain: { height: () => ln.bitcoin.height(), tipHash: () => ln.bitcoin.full.chain.tip.rhash() },
});
const LIGHTNING = lightningModuleConfig(
  { backend: 'lnd', url: lnFront.url, wait_seconds: 30 },
  { tor: null },
);
const IDENTITY = 'conformer';
const ALLOW_ALL = `
version: 1
name: conformance-allow
risk: { tolerance: high }
new_destination: allow
rules:
  - { id: everything, effect: allow }
  # A keysend is opt-in: only a rule naming it allows one.
  - { id: keysend, match: { protocol: lightning, payment: keysend }, effect: allow }
`;
const HOLD_ALL = `
version: 1
name: conformance-hold
risk: { tolerance: high }
new_destination: allow
rules:
  - { id: everything-held, effect: hold, approvals: 1 }
  - { id: keysend-held, match: { protocol: lightning, payment: keysend }, effect: hold, approvals: 1 }
`;
const CAPABILITIES = [...new Set(OPERATIONS.map((o) => o.capability))] as Capability[];
/** Codes a backend's refusal of a well-formed request may answer with (502), never a 500. */
const BACKEND_CODES = new Set([
  'BACKEND_UNREACHABLE',
  'BACKEND_REJECTED',
  'OUTCOME_UNKNOWN',
  'BROADCAST_FAILED',
  'LIGHTNING_PAYMENT_FAILED',
  'LIGHTNING_BACKEND_AUTH',
]);

const g = await startTestGateway({
  identities: [IDENTITY],
  policies: { [IDENTITY]: ALLOW_ALL },
  clock: fixedClock(NOW),
  evmRpc: RPC,
  protocols: { bitcoin: BITCOIN, lightning: LIGHTNING },
  rateLimits: () => ({ max: 100_000, windowMs: 60_000 }),
});
await g.warden.setCredential(IDENTITY, 'macaroon', Uint8Array.from(MACAROON));
const agent = await g.token('agent', { identity: IDENTITY, capabilities: CAPABILITIES });
const operator = await g.token('operator');
const evmAddress = g.warden.showIdentity(IDENTITY).evm?.address;
if (evmAddress) await fund(node.rpcUrl, evmAddress, 10n ** 24n);

/** bitcoin.sign_psbt signs only PSBTs that spend the identity's own keys: built from its xpubs. */
function bitcoinSample(keys: IdentityView): Sample {
  const body = (psbt: string, payTo?: string[] | null) => (payTo === undefined ? { psbt } : { psbt, payTo });
  return {
    bodies: [
      body(identityPsbt(keys, { purpose: 84, amount: 100_000n, pay: 600n, fee: 400n, version: 0 })),
      body(identityPsbt(keys, { purpose: 86, amount: 100_000n, pay: 700n, fee: 300n, version: 2 })),
      body(identityPsbt(keys, { purpose: 84, amount: 50_000n, pay: 800n, fee: 500n, version: 2, index: 3 })),
    ],
    valid: fc
      .record(
        {
          purpose: fc.constantFrom(84 as const, 86 as const),
          amount: fc.bigInt({ min: 20_000n, max: 2_000_000n }),
          pay: fc.bigInt({ min: 546n, max: 10_000n }),
          fee: fc.bigInt({ min: 200n, max: 5_000n }),
          version: fc.constantFrom(0 as const, 2 as const),
          index: fc.integer({ min: 0, max: 20 }),
          idempotencyKey: optionalKey,
        },
        { requiredKeys: ['purpose', 'amount', 'pay', 'fee', 'version', 'index'] },
      )
      .map(({ idempotencyKey, ...spec }) => ({
        psbt: identityPsbt(keys, spec),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      })),
    forIdentity: (other) =>
      body(identityPsbt(other, { purpose: 84, amount: 100_000n, pay: 600n, fee: 400n, version: 0 })),
  };
}
SAMPLES['bitcoin.sign_psbt'] = bitcoinSample(g.warden.showIdentity(IDENTITY));

// ---- the Bitcoin wallet: coins on the chain for the sends ----------------------------------------

const addressOf = (script: Uint8Array) => addressOfScript(script, 'regtest')!;
/** Regtest payees of a key that is no identity's: P2WPKH and P2TR. */
const PAYEES = [addressOf(scriptAt(84, 0, 1)), addressOf(scriptAt(84, 0, 2)), addressOf(scriptAt(86, 0, 3))];
/** Coinbases to the identity: every send the checks make spends one (change waits 2 blocks). */
const FUNDING_BLOCKS = 60;

async function newAddressOf(call: GatewayCall, token: string): Promise<string> {
  const r = await call('POST', '/v1/bitcoin/new-address', { token, body: {} });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.request.result.address as string;
}

const funding = await newAddressOf(g.call, agent);
await bitcoinNode.mine(FUNDING_BLOCKS, scriptOfAddress(funding, 'regtest', 'funding'));
await bitcoinNode.mine(101, MINER);

const satText = (min: bigint, max: bigint) => fc.bigInt({ min, max }).map(String);
/** 1 to 5 sat/vB, with up to 3 decimals, as the request spells it; or the node's estimate. */
const feerate = fc.oneof(
  fc.constant(null),
  fc
    .integer({ min: 1_000, max: 5_000 })
    .map((m) => `${Math.floor(m / 1000)}.${String(m % 1000).padStart(3, '0')}`),
);
const payment = fc.record({ to: fc.constantFrom(...PAYEES), amount_sat: satText(1_000n, 50_000n) });
SAMPLES['bitcoin.send'] = {
  bodies: [
    { to: PAYEES[0], amount_sat: '10000', feerate: '1' },
    { to: PAYEES[0], amount_sat: '10001', feerate: '1' },
    {
      outputs: [
        { to: PAYEES[1], amount_sat: '20000' },
        { to: PAYEES[2], amount_sat: '3000' },
      ],
      feerate: '2.5',
    },
  ],
  valid: fc.oneof(
    fc.record(
      {
        to: fc.constantFrom(...PAYEES),
        amount_sat: satText(1_000n, 50_000n),
        feerate,
        idempotencyKey: optionalKey,
      },
      { requiredKeys: ['to', 'amount_sat'] },
    ),
    fc.record(
      { outputs: fc.array(payment, { minLength: 1, maxLength: 3 }), feerate, idempotencyKey: optionalKey },
      { requiredKeys: ['outputs'] },
    ),
  ),
  // Coins for the other identity: a send from this one to an address it hands out, confirmed.
  async prepare(call, token) {
    const to = await newAddressOf(call, token);
    const paid = await g.call('POST', '/v1/bitcoin/send', {
      token: agent,
      body: { to, amount_sat: '200000', feerate: '1' },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    await bitcoinNode.confirm(paid.body.request.result.txid, MINER);
    await bitcoinNode.mine(1, MINER);
  },
};
SAMPLES['bitcoin.new_address'] = {
  bodies: [{ type: 'p2wpkh' }, { type: 'p2tr' }],
  valid: fc.record(
    { type: fc.constantFrom('p2wpkh', 'p2tr'), idempotencyKey: optionalKey },
    { requiredKeys: [] },
  ),
};
SAMPLES['bitcoin.balance'] = {
  bodies: [{}, { min_confirmations: 6 }, { min_confirmations: 100 }],
  // The configured depth is 2: a read never counts shallower than a send spends.
  valid: fc.record(
    {
      min_confirmations: fc.oneof(fc.constant(null), fc.integer({ min: 2, max: 1_000 })),
      idempotencyKey: optionalKey,
    },
    { requiredKeys: [] },
  ),
};

// ---- Lightning: a fresh invoice of B for every body, since a payment hash is paid once ------------

/** The amount each invoice was made for (null: none), so that a body can be made again anew. */
const INVOICE_AMOUNT = new Map<string, bigint | null>();
function freshInvoice(msat: bigint | null): string {
  const bolt11 = ln.node('B').invoice(msat, 'conformance', 3600).to_str();
  INVOICE_AMOUNT.set(bolt11, msat);
  return bolt11;
}
/** The same request on a new invoice of the same amount. */
const anew = (body: Body): Body => ({
  ...body,
  invoice: freshInvoice(INVOICE_AMOUNT.get(body.invoice as string) ?? null),
});
SAMPLES['lightning.pay_invoice'] = {
  bodies: [
    { invoice: freshInvoice(10_000n) },
    { invoice: freshInvoice(11_000n), fee_limit_sat: '3' },
    { invoice: freshInvoice(null), amount_msat: '12345' },
  ],
  valid: fc.oneof(
    fc
      .record(
        {
          msat: fc.bigInt({ min: 1_000n, max: 50_000n }),
          fee_limit_sat: fc.oneof(fc.constant(null), satText(0n, 100n)),
          idempotencyKey: optionalKey,
        },
        { requiredKeys: ['msat'] },
      )
      .map(({ msat, ...rest }) => ({ invoice: freshInvoice(msat), ...rest })),
    fc
      .record(
        {
          amount_msat: satText(1_000n, 50_000n),
          fee_limit_sat: fc.oneof(fc.constant(null), satText(0n, 100n)),
          idempotencyKey: optionalKey,
        },
        { requiredKeys: ['amount_msat'] },
      )
      .map((rest) => ({ invoice: freshInvoice(null), ...rest })),
  ),
  // Each request with a key pays an invoice of its own: the same hash twice would be refused.
  withKey: (body, key) => ({ ...anew(body), idempotencyKey: key }),
  prepare: sealMacaroon,
};

/** The other identity's macaroon, sealed as an operator does (`warden identity lightning`). */
async function sealMacaroon(_call: GatewayCall, _token: string, own: { warden: Warden; identity: string }) {
  await own.warden.setCredential(own.identity, 'macaroon', Uint8Array.from(MACAROON));
}
SAMPLES['lightning.keysend'] = {
  bodies: [
    { destination: ln.node('B').idHex, amount_msat: '10000' },
    { destination: ln.node('B').idHex, amount_msat: '11000', fee_limit_sat: '3' },
    { destination: ln.node('B').idHex, amount_msat: '12345', fee_limit_sat: null },
  ],
  valid: fc
    .record(
      {
        amount_msat: satText(1_000n, 50_000n),
        fee_limit_sat: fc.oneof(fc.constant(null), satText(0n, 100n)),
        idempotencyKey: optionalKey,
      },
      { requiredKeys: ['amount_msat'] },
    )
    .map((rest) => ({ destination: ln.node('B').idHex, ...rest })),
  prepare: sealMacaroon,
};
SAMPLES['lightning.make_invoice'] = {
  bodies: [
    { amount_msat: '1000' },
    { amount_msat: '2000', description: 'conformance' },
    { amount_msat: '3000', expiry_seconds: 3600 },
  ],
  valid: fc.record(
    {
      amount_msat: satText(1n, 1_000_000_000n),
      description: fc.oneof(fc.constant(null), fc.string({ maxLength: 80 })),
      expiry_seconds: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 86_400 })),
      idempotencyKey: optionalKey,
    },
    { requiredKeys: ['amount_msat'] },
  ),
  prepare: sealMacaroon,
};
SAMPLES['lightning.balance'] = {
  bodies: [{}],
  valid: fc.record({ idempotencyKey: optionalKey }, { requiredKeys: [] }),
  prepare: sealMacaroon,
  commitsToNothing: true,
};
/** Invoices the conformer made through Warden: the only ones it may look up. */
const MADE: string[] = [];
for (const amount_msat of ['4000', '5000', '6000']) {
  const r = await g.call('POST', '/v1/lightning/make-invoice', { token: agent, body: { amount_msat } });
  assert.equal(r.body.request?.status, 'done', JSON.stringify(r.body));
  MADE.push(r.body.request.result.paymentHash);
}
/** The other identity's own invoice, made in `prepare`. */
let keeperInvoice = '';
SAMPLES['lightning.lookup_invoice'] = {
  bodies: MADE.map((payment_hash) => ({ payment_hash })),
  valid: fc.record(
    { payment_hash: fc.constantFrom(...MADE), idempotencyKey: optionalKey },
    { requiredKeys: ['payment_hash'] },
  ),
  async prepare(call, token, own) {
    await sealMacaroon(call, token, own);
    const r = await call('POST', '/v1/lightning/make-invoice', { token, body: { amount_msat: '7000' } });
    assert.equal(r.body.request?.status, 'done', JSON.stringify(r.body));
    keeperInvoice = r.body.request.result.paymentHash;
  },
  forIdentity: () => ({ payment_hash: keeperInvoice }),
};

async function count(w: Warden, table: string, where = ''): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`${sql.raw(`SELECT count(*) AS n FROM ${table} ${where}`)}`.execute(w.store.db);
  return Number(rows[0]!.n);
}

async function counts(w: Warden) {
  return {
    request: await count(w, 'request'),
    done: await count(w, 'request', "WHERE status = 'done'"),
    ledger: await count(w, 'ledger'),
    committed: await count(w, 'ledger', "WHERE status = 'committed'"),
    audit: await count(w, 'audit_log'),
  };
}

function shown(r: { status: number; body: unknown }): string {
  return `${r.status} ${JSON.stringify(r.body).slice(0, 400)}`;
}

/** Submits and, when a rule holds it anyway, approves it: a request that ends `done`. */
async function submitToDone(op: AnyOperation, body: Body) {
  const first = await g.call('POST', op.http.path, { token: agent, body });
  assert.ok(first.status === 200 || first.status === 202, shown(first));
  let view = first.body.request;
  if (view.status === 'held') {
    const approved = await g.call('POST', `/v1/approvals/${view.requestId}/approve`, { token: operator });
    assert.equal(approved.status, 200, shown(approved));
    view = approved.body.request;
  }
  if (view.status === 'executing')
    view = (await g.call('GET', `/v1/requests/${view.requestId}?wait=10`, { token: agent })).body.request;
  assert.equal(view.status, 'done', JSON.stringify(view));
  return { first, view };
}

async function auditOf(w: Warden, requestId: string) {
  const records = await w.showAudit({ limit: 10_000 });
  return records.filter((r) => r.summary.operationId === requestId);
}

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as new (
  options: Record<string, unknown>,
) => { compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown } };
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

test('every operation of the registry has a conformance sample and is served by the gateway', () => {
  assert.ok(OPERATIONS.length > 0);
  const missing = OPERATIONS.filter((op) => !SAMPLES[op.name]).map((op) => op.name);
  assert.deepEqual(missing, [], `operations without a sample in this file: ${missing.join(', ')}`);
  for (const op of OPERATIONS) assert.ok(g.gateway.hasOperation(op.name), `${op.name} is not enabled`);
});

test('every operation either signs locally (sign) or sends (execute), never both and never neither', () => {
  const wrong = OPERATIONS.filter((op) => (op.sign === undefined) === (op.execute === undefined));
  assert.deepEqual(
    wrong.map((op) => op.name),
    [],
  );
  assert.equal(OPERATIONS.find((op) => op.name === 'nostr.sign_event')?.sign !== undefined, true);
});

for (const op of OPERATIONS) {
  describe(`conformance: ${op.name}`, () => {
    const paths = [op.http.path, ...(op.http.aliases ?? [])];
    const names = [op.name, ...(op.aliases ?? [])];

    test('the samples are valid: parsed, accepted by the request schema, pairwise different digests', () => {
      const sample = sampleOf(op);
      const validate = ajv.compile(op.requestSchema);
      const digests = sample.bodies.map((body) => {
        const r = tryParse(op, body);
        assert.ok(r.ok, `${JSON.stringify(body)}: ${r.ok ? '' : String((r as { error: unknown }).error)}`);
        assert.ok(validate(body), `schema refuses a sample: ${JSON.stringify(validate.errors)}`);
        return op.digest(r.parsed);
      });
      assert.equal(
        new Set(digests).size,
        digests.length,
        'samples committing to different things share a digest',
      );
    });

    test('1. fuzzed input over HTTP never answers 5xx, and what the parser refuses signs nothing and leaves no row', async () => {
      const sample = sampleOf(op);
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(
          hostile(op, sample),
          fc.constantFrom(...paths, 'dry-run'),
          fc.constantFrom(...names),
          async (body, via, name) => {
            const before = await counts(g.warden);
            const dryRun = via === 'dry-run';
            const seen = dryRun ? JSON.parse(JSON.stringify(body)) : asSubmitted(body);
            const accepted = tryParse(op, seen).ok;
            if (!accepted) refused++;
            const r = await (dryRun
              ? g.call('POST', '/v1/dry-run', { token: agent, body: { operation: name, request: body } })
              : g.call('POST', via, { token: agent, body })
            ).catch((err: unknown) => {
              // No answer at all is worse than a 5xx: see the keep-alive check below for the known cause.
              throw new Error(
                `no HTTP answer to ${via} ${JSON.stringify(body).slice(0, 200)}: ${String((err as { cause?: unknown }).cause ?? err)}`,
              );
            });
            const label = `${via} ${JSON.stringify(body).slice(0, 300)} → ${shown(r)}`;
            assert.equal(typeof r.body?.error?.code === 'string' || r.status < 300, true, label);
            assert.doesNotMatch(JSON.stringify(r.body), /\bat \S+:\d+:\d+/, `no stack trace: ${label}`);
            if (r.status >= 500) {
              // Only a backend's answer to a well-formed request may be a 502; nothing is ever a 500.
              assert.ok(accepted && r.status === 502 && BACKEND_CODES.has(r.body.error.code), label);
            }
            if (!accepted) assert.ok(r.status >= 400 && r.status < 500, `refused by the parser: ${label}`);
            const now = await counts(g.warden);
            if (!accepted || dryRun) {
              assert.equal(now.request, before.request, `no request row: ${label}`);
              assert.equal(now.done, before.done, `nothing signed: ${label}`);
              assert.equal(now.ledger, before.ledger, `no reservation: ${label}`);
              assert.equal(now.committed, before.committed, `nothing booked: ${label}`);
            }
            if (dryRun) assert.equal(now.audit, before.audit, `a dry run leaves no audit record: ${label}`);
          },
        ),
        { numRuns: 45 },
      );
      assert.ok(refused > 0, 'the fuzz produced no input the parser refuses');
    });

    test('1b. an oversized body is refused (413) and the connection it leaves open still answers', async () => {
      const url = new URL(g.url);
      const request = (body: string) =>
        `POST ${op.http.path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${agent}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const huge = JSON.stringify({ field: 'x'.repeat(1_000_000) });
      // One connection, as a keep-alive client pool uses it: the oversized request, then a small one.
      const answers = await new Promise<string>((resolve) => {
        const socket = connect(Number(url.port), url.hostname);
        let text = '';
        let second = false;
        socket.on('data', (chunk) => {
          text += chunk.toString('utf8');
          if (!second && /\r\n\r\n\{.*\}\}$/s.test(text)) {
            second = true;
            // A client that honours `Connection: keep-alive` sends its next request on this socket.
            if (!/^connection: close/im.test(text)) setTimeout(() => socket.write(request('{}')), 50);
            else socket.end();
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(text));
        setTimeout(() => socket.destroy(), 3_000);
        socket.write(request(huge));
      });
      const statuses = [...answers.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
      assert.equal(statuses[0], 413, answers.slice(0, 300));
      const closes = /^connection: close/im.test(answers.split('\r\n\r\n')[0] ?? '');
      assert.ok(
        closes || statuses.length === 2,
        'the 413 said "Connection: keep-alive", but the next request on that connection got no answer ' +
          '(the server dropped the socket once it gave up reading the rest of the body)',
      );
    });

    test('request schema: whatever the parser accepts, the schema accepts (fuzzed and valid bodies)', () => {
      const sample = sampleOf(op);
      const validate = ajv.compile(op.requestSchema);
      // Every disagreement, one example each, rather than the first one shrunk: the fix needs them all.
      const disagreements = new Map<string, unknown>();
      for (const body of fc.sample(fc.oneof(hostile(op, sample), sample.valid), 400)) {
        const seen = JSON.parse(JSON.stringify(body));
        if (!tryParse(op, seen).ok || validate(seen)) continue;
        const errors = (validate.errors ?? []) as { instancePath: string; message?: string }[];
        const what = errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
        if (!disagreements.has(what)) disagreements.set(what, seen);
      }
      assert.deepEqual(
        [...disagreements].map(([what, body]) => `${what} — e.g. ${JSON.stringify(body).slice(0, 200)}`),
        [],
        'bodies the parser accepts but the request schema (and so the OpenAPI document) refuses',
      );
    });

    test('2. encode/decode round trip; parse → encode → decode → intent and review are the same', async () => {
      const sample = sampleOf(op);
      const ctx = g.gateway.operations.intentContext(op, IDENTITY);
      const check = async (body: Body) => {
        const r = tryParse(op, body);
        assert.ok(r.ok, `a valid sample does not parse: ${JSON.stringify(body)}`);
        const parsed = r.parsed;
        const bytes = op.encode(parsed);
        assert.ok(bytes instanceof Uint8Array);
        const decoded = op.decode(bytes);
        assert.deepEqual(decoded, parsed, 'decode(encode(p)) is p');
        assert.deepEqual(op.encode(decoded), bytes, 'encoding is stable');
        assert.equal(op.digest(decoded), op.digest(parsed));
        assert.equal(op.idempotencyKey(decoded), op.idempotencyKey(parsed));
        const intent = await op.toIntent(parsed, ctx);
        const again = await op.toIntent(decoded, ctx);
        assert.deepEqual(again, intent);
        assert.deepEqual(
          op.review(decoded, again, ctx.publicKeys),
          op.review(parsed, intent, ctx.publicKeys),
        );
      };
      for (const body of sample.bodies) await check(body);
      await fc.assert(fc.asyncProperty(sample.valid, check), { numRuns: 40 });
    });

    test('3. digest stability: key order and absent-vs-null leave it; a changed value changes it', () => {
      const sample = sampleOf(op);
      const { all, required } = schemaProperties(op);
      const optional = all.filter((name) => !required.includes(name));
      const digestOf = (body: Body) => {
        const r = tryParse(op, body);
        return r.ok ? op.digest(r.parsed) : null;
      };
      let nullChecks = 0;
      let changeChecks = 0;
      fc.assert(
        fc.property(sample.valid, sample.valid, (a, b) => {
          const base = digestOf(a);
          assert.ok(base, `valid body refused: ${JSON.stringify(a)}`);
          assert.equal(digestOf(Object.fromEntries(Object.entries(a).reverse())), base, 'key order');
          const rotated = Object.entries(a);
          if (rotated.length > 0) rotated.push(rotated.shift()!);
          assert.equal(digestOf(Object.fromEntries(rotated)), base, 'key order');
          for (const name of optional) {
            const { [name]: _dropped, ...absent } = a;
            const withNull = digestOf({ ...absent, [name]: null });
            if (withNull === null) continue; // null refused for this field: nothing to compare
            nullChecks++;
            assert.equal(withNull, digestOf(absent), `${name}: null and absent are the same request`);
          }
          const parsedA = tryParse(op, a) as { parsed: unknown };
          for (const name of all) {
            const changed: Body = { ...a };
            if (Object.hasOwn(b, name)) changed[name] = b[name];
            else delete changed[name];
            const r = tryParse(op, changed);
            if (!r.ok) continue;
            // The idempotency key is not part of what the request commits to.
            if (op.idempotencyKey(r.parsed) !== op.idempotencyKey(parsedA.parsed)) continue;
            const sameRequest =
              Buffer.compare(Buffer.from(op.encode(r.parsed)), Buffer.from(op.encode(parsedA.parsed))) === 0;
            if (sameRequest) continue;
            changeChecks++;
            assert.notEqual(
              op.digest(r.parsed),
              base,
              `${name}: ${JSON.stringify(a[name])} → ${JSON.stringify(b[name])} changed the request, not its digest`,
            );
          }
        }),
        { numRuns: 150 },
      );
      assert.ok(changeChecks > 0 || sample.commitsToNothing, 'no changed value was checked');
      assert.ok(optional.length === 0 || nullChecks > 0, 'no optional field was checked absent against null');
    });

    test('4. a dry run writes nothing: request, ledger and audit_log keep their row counts', async () => {
      // The checks before this one run synchronously for seconds, with the server in this process:
      // its idle keep-alive timers and the client's expire together, and a request sent before
      // either fires may go out on a socket the server is closing (ECONNRESET). Let timers run first.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const sample = sampleOf(op);
      const bodies = [...sample.bodies, ...fc.sample(sample.valid, { numRuns: 8, seed: 7 })];
      for (const [i, body] of bodies.entries()) {
        const before = await counts(g.warden);
        const r = await g.call('POST', '/v1/dry-run', {
          token: agent,
          body: { operation: names[i % names.length], request: body },
        });
        assert.equal(r.status, 200, shown(r));
        assert.equal(r.body.dryRun, true);
        assert.equal(typeof r.body.decision.outcome, 'string');
        assert.deepEqual(await counts(g.warden), before, JSON.stringify(body));
      }
    });

    test('5. idempotent replay: one request id, booked once; another body under the same key is IDEMPOTENCY_CONFLICT', async () => {
      const sample = sampleOf(op);
      const key = `conformance-replay-${op.name}`;
      const body = withKey(sample, sample.bodies[0]!, key);
      const parsed = tryParse(op, body);
      assert.ok(parsed.ok);
      assert.equal(
        op.idempotencyKey(parsed.parsed),
        key,
        'the sample carries the key where the operation reads it',
      );
      const first = await g.call('POST', op.http.path, { token: agent, body });
      assert.ok(first.status < 300, shown(first));
      const id = first.body.request.requestId;
      const before = await counts(g.warden);
      // The same request again, its keys in another order: the first answer, nothing new.
      const again = await g.call('POST', op.http.path, {
        token: agent,
        body: Object.fromEntries(Object.entries(body).reverse()),
      });
      assert.equal(again.status, first.status, shown(again));
      assert.equal(again.body.request.requestId, id);
      assert.deepEqual(await counts(g.warden), before, 'a replay changes nothing');
      assert.equal(await count(g.warden, 'ledger', `WHERE request_id = '${id}'`), 1, 'booked once');
      if (sample.commitsToNothing) {
        assert.equal(sample.bodies.length, 1, 'a request that commits to nothing has one body');
        return;
      }
      const other = await g.call('POST', op.http.path, {
        token: agent,
        body: withKey(sample, sample.bodies[1]!, key),
      });
      assert.equal(other.status, 409, shown(other));
      assert.equal(other.body.error.code, 'IDEMPOTENCY_CONFLICT');
      assert.deepEqual(await counts(g.warden), before, 'a conflict changes nothing');
    });

    test('7. an audit record for each step: the decision and the result, both naming the request', async () => {
      const sample = sampleOf(op);
      // The body as submitted: a sample's withKey may make it anew (a Lightning invoice is paid once).
      const submitted = withKey(sample, sample.bodies[0]!, `conformance-audit-${op.name}`);
      const { view } = await submitToDone(op, submitted);
      const records = await auditOf(g.warden, view.requestId);
      const decision = records.find((r) => r.action === op.name);
      const result = records.find((r) => r.action === `${op.name}.result`);
      assert.ok(decision, JSON.stringify(records));
      assert.ok(result, JSON.stringify(records));
      assert.equal(result.outcome, 'ok');
      assert.ok(decision.seq < result.seq);
      assert.equal(decision.identity, IDENTITY);
      assert.equal(decision.summary.protocol, op.protocol);
      const details = decision.details as {
        decision?: { outcome?: string };
        intent?: { payloadDigest?: string };
      };
      assert.ok(details.decision?.outcome, 'the decision is in the record');
      assert.equal(
        details.intent?.payloadDigest,
        op.digest((tryParse(op, submitted) as { parsed: unknown }).parsed),
      );
      assert.equal((result.details as { status?: string }).status, 'done');
    });
  });
}

// ---- 6. a held request survives a restart -------------------------------------------------------

/** A gateway over a home that outlives it: opened, closed, and opened again on the same files. */
async function openGateway(home: string, create: boolean) {
  const options = { home, actor: 'cli:test', logger: nullLogger(), kdf: TEST_KDF, clock: fixedClock(NOW) };
  const warden = create
    ? await Warden.init(options, passphrase())
    : await Warden.unseal(options, passphrase());
  const gateway = new Gateway(warden, {
    logger: nullLogger(),
    protocols: { evm: { rpcUrls: RPC }, bitcoin: BITCOIN, lightning: LIGHTNING },
  });
  const server = await startHttpServer(gateway, { host: '127.0.0.1', port: 0 });
  const call: GatewayCall = async (method, path, o) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${o.token}`,
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return {
    warden,
    gateway,
    call,
    async close() {
      await server.close();
      await gateway.drain();
      await warden.close();
    },
  };
}

for (const op of OPERATIONS) {
  test(`6. conformance: ${op.name}: a held request survives a restart and executes on approval, with the same intent hash`, async () => {
    const sample = sampleOf(op);
    const dir = mkdtempSync(join(tmpdir(), 'warden-conformance-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const home = ensureHome(join(dir, 'home')).dir;
    const identity = 'keeper';
    const first = await openGateway(home, true);
    await first.warden.createIdentity(identity, 'regtest');
    const token = async (role: 'agent' | 'operator') =>
      (
        await createTokenAudited(first.warden, {
          role,
          identity: role === 'agent' ? identity : null,
          capabilities: role === 'agent' ? CAPABILITIES : [],
          label: `conformance-${role}`,
        })
      ).token;
    const agentToken = await token('agent');
    const operatorToken = await token('operator');
    const address = first.warden.showIdentity(identity).evm?.address;
    if (address) await fund(node.rpcUrl, address, 10n ** 21n);
    if (sample.prepare) {
      await setPolicyAudited(first.warden, identity, ALLOW_ALL);
      await sample.prepare(first.call, agentToken, { warden: first.warden, identity });
    }
    await setPolicyAudited(first.warden, identity, HOLD_ALL);

    const base = sample.forIdentity?.(first.warden.showIdentity(identity)) ?? sample.bodies[0]!;
    const body = withKey(sample, base, `conformance-restart-${op.name}`);
    // The intent hash the approver must see, computed here from the same body at the same time.
    const parsed = op.parse(body, NOW);
    const ctx = first.gateway.operations.intentContext(op, identity);
    const intent = await op.toIntent(parsed, ctx);
    const expected = reviewHash(
      reviewDocument(op.name, intent, op.review(parsed, intent, ctx.publicKeys).payload),
    );

    const held = await first.call('POST', op.http.path, { token: agentToken, body });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body.request.status, 'held');
    const id = held.body.request.requestId as string;
    const reviewed = await first.call('GET', `/v1/approvals/${id}`, { token: operatorToken });
    assert.equal(reviewed.status, 200, JSON.stringify(reviewed.body));
    assert.equal(reviewed.body.approval.intentHash, expected);
    await first.close();

    const second = await openGateway(home, false);
    try {
      const again = await second.call('GET', `/v1/approvals/${id}`, { token: operatorToken });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.approval.intentHash, expected, 'the same intent hash after the restart');
      const approved = await second.call('POST', `/v1/approvals/${id}/approve`, {
        token: operatorToken,
        body: { intentHash: expected, reason: 'conformance' },
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      let view = approved.body.request;
      if (view.status === 'executing')
        view = (await second.call('GET', `/v1/requests/${id}?wait=10`, { token: agentToken })).body.request;
      assert.equal(view.status, 'done', JSON.stringify(view));
      // A broadcast reached the node for real.
      const { txHash, txid } = view.result as { txHash?: string; txid?: string };
      if (txHash) assert.ok(await rpcCall(node.rpcUrl, 'eth_getTransactionByHash', [txHash]), 'on the node');
      // A send broadcasts (a signed PSBT is the agent's to broadcast).
      if (txid && op.execute) {
        assert.ok((await bitcoinNode.rpc('getrawmempool')).includes(txid), 'in the node mempool');
      }

      // 7. for the held path: the hold, the approval and the result, each naming the request.
      const records = await auditOf(second.warden, id);
      assert.deepEqual(
        records.map((r) => [r.action, r.outcome]),
        [
          [op.name, 'held'],
          ['approval.approve', 'ok'],
          [`${op.name}.result`, 'ok'],
        ],
      );
      assert.equal(
        await count(second.warden, 'ledger', `WHERE request_id = '${id}' AND status = 'committed'`),
        1,
      );
    } finally {
      await second.close();
    }
  });
}
