import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { recover } from 'tiny-secp256k1';
import { isWardenError } from '../../../src/core/errors.ts';
import { checkPayable, decodeBolt11, expiresAt } from '../../../src/protocols/lightning/bolt11.ts';

/** The spec's examples (BOLT 11 "Examples" and "Examples of Invalid Invoices"); see vectors/PROVENANCE.txt. */
const SPEC = JSON.parse(
  readFileSync(new URL('./vectors/bolt11.from-spec.json', import.meta.url), 'utf8'),
) as {
  priv_key: string;
  default_payment_secret: string;
  valid: { title: string; invoice: string; decoded: Record<string, any> | null }[];
  invalid: { reason: string; invoice: string }[];
};
const PAYEE = bytesToHex(secp256k1.getPublicKey(hexToBytes(SPEC.priv_key), true));
/** The spec's words for its multipliers, read apart from the decoder's table: msat per unit. */
const STATED_UNIT: Record<string, bigint> = {
  'milli-bitcoin': 100_000_000n,
  'micro-bitcoin': 100_000n,
  'nano-bitcoin': 100n,
};

function statedMsat(stated: string | null | undefined): bigint | null {
  if (!stated) return null;
  const explicit = /= (\d+) milli satoshi/.exec(stated);
  if (explicit) return BigInt(explicit[1]!);
  const [units, unit] = stated.split(' ');
  return BigInt(units!) * STATED_UNIT[unit!]!;
}

/**
 * The key libsecp256k1 (tiny-secp256k1, an implementation apart from the decoder's noble) recovers
 * from the signature and digest the spec prints. For the high-S example that is not the spec's
 * example key: the spec negated s and kept the recovery flag, so it recovers another key (both
 * libraries agree), and the invoice is valid, signed by that one.
 */
function recoveredBySpec(b: {
  signature_rs_hex: string;
  recovery_flag: number;
  signing_data_sha256_hex: string;
}) {
  const key = recover(
    hexToBytes(b.signing_data_sha256_hex),
    hexToBytes(b.signature_rs_hex),
    b.recovery_flag as 0 | 1,
    true,
  );
  assert.ok(key);
  return bytesToHex(key);
}

function refusal(invoice: unknown): string {
  try {
    decodeBolt11(invoice);
  } catch (err) {
    assert.ok(isWardenError(err, 'INVALID_INVOICE'), `a WardenError INVALID_INVOICE, not ${String(err)}`);
    return String(err.details.reason);
  }
  assert.fail(`accepted: ${String(invoice).slice(0, 40)}`);
}

test('every valid example of the spec decodes to what the spec says, signed by the key its signature gives', () => {
  // Fields the spec abbreviates ("payment hash...") are those of the first example: "the same".
  const first = SPEC.valid[0]!.decoded!;
  assert.equal(recoveredBySpec(first.signature_breakdown), PAYEE);
  for (const v of SPEC.valid) {
    const inv = decodeBolt11(v.invoice);
    const d = v.decoded;
    assert.equal(inv.payee, d?.signature_breakdown ? recoveredBySpec(d.signature_breakdown) : PAYEE, v.title);
    if (!d) continue; // "Same, but all upper case": checked against its lower-case twin below
    assert.equal(inv.network, d.prefix === 'lnbc' ? 'bitcoin' : 'testnet', v.title);
    assert.equal(inv.amountMsat, statedMsat(d.amount_as_stated), v.title);
    assert.equal(inv.timestamp, d.timestamp, v.title);
    assert.equal(inv.paymentHash, d.payment_hash ?? first.payment_hash, v.title);
    assert.equal(inv.paymentSecret, d.payment_secret ?? SPEC.default_payment_secret, v.title);
    assert.equal(inv.expirySeconds, d.expiry_seconds ?? 3600, v.title);
    assert.equal(inv.minFinalCltvExpiryDelta, d.min_final_cltv_expiry_delta ?? 18, v.title);
    // The spec's text escapes the quotes of one description (`\\"`); the invoice holds plain ones.
    if (d.description !== undefined)
      assert.equal(inv.description, d.description.replaceAll('\\"', '"'), v.title);
    if (d.description_hash) assert.equal(inv.descriptionHash, d.description_hash, v.title);
    assert.equal(inv.metadata, d.metadata ? d.metadata.replace(/^0x/, '') : null, v.title);
    const hints = (d.routing_hints ?? []).map((route: any[]) =>
      route.map((h) => ({
        pubkey: h.pubkey,
        shortChannelId: h.short_channel_id,
        feeBaseMsat: h.fee_base_msat,
        feeProportionalMillionths: h.fee_proportional_millionths,
        cltvExpiryDelta: h.cltv_expiry_delta,
      })),
    );
    assert.deepEqual(inv.routeHints, hints, v.title);
  }
  const upper = SPEC.valid.find((v) => v.decoded === null && v.invoice === v.invoice.toUpperCase())!;
  const twin = SPEC.valid.find((v) => v.invoice === upper.invoice.toLowerCase())!;
  assert.deepEqual(decodeBolt11(upper.invoice), decodeBolt11(twin.invoice));
});

test('features: unknown odd bits are ignored (8, 14 and 99), what is known is reported', () => {
  const v = SPEC.valid.find((x) => x.title.includes('features 8, 14 and 99'))!;
  assert.deepEqual(decodeBolt11(v.invoice).features, [8, 14, 99]);
});

test('every invalid example of the spec is refused, for its reason', () => {
  const expected: Record<string, string> = {
    'Same, but adding invalid unknown feature 100': 'unknown_required_feature',
    'Bech32 checksum is invalid.': 'bech32_invalid',
    'Malformed bech32 string (no 1)': 'bech32_invalid',
    'Malformed bech32 string (mixed case)': 'mixed_case',
    'Signature is not recoverable.': 'signature_invalid',
    'String is too short.': 'too_short',
    'Invalid multiplier': 'amount_malformed',
    'Invalid sub-millisatoshi precision.': 'sub_msat_amount',
    'Missing required `s` field.': 'payment_secret_missing',
    "Non canonical signature (high-S) with 'n' field defined": 'signature_invalid',
  };
  assert.equal(SPEC.invalid.length, Object.keys(expected).length);
  for (const v of SPEC.invalid) assert.equal(refusal(v.invoice), expected[v.reason], v.reason);
});

test('an invoice is payable only on its own network and before it expires', () => {
  const inv = decodeBolt11(SPEC.valid[1]!.invoice); // mainnet, 60 s expiry
  const before = new Date((expiresAt(inv) - 1) * 1000);
  checkPayable(inv, 'bitcoin', before);
  assert.throws(() => checkPayable(inv, 'bitcoin', new Date(expiresAt(inv) * 1000)), /expired/);
  for (const other of ['testnet', 'signet', 'regtest'] as const) {
    assert.throws(
      () => checkPayable(inv, other, before),
      (err: unknown) => isWardenError(err, 'INVALID_INVOICE') && err.details.reason === 'network_mismatch',
    );
  }
});

test('hostile input: any string, any mutation of a valid invoice, is decoded or refused with INVALID_INVOICE, never anything else', () => {
  const valid = SPEC.valid.map((v) => v.invoice);
  const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const mutated = fc
    .tuple(fc.constantFrom(...valid), fc.nat(), fc.constantFrom(...CHARSET), fc.boolean())
    .map(([inv, at, ch, drop]) => {
      const i = at % inv.length;
      return drop ? inv.slice(0, i) + inv.slice(i + 1) : inv.slice(0, i) + ch + inv.slice(i + 1);
    });
  fc.assert(
    fc.property(fc.oneof(mutated, fc.string({ maxLength: 300 }), fc.anything()), (input) => {
      try {
        const inv = decodeBolt11(input);
        // Whatever decodes was signed: bech32's checksum catches every one-character change of a valid invoice.
        assert.equal(inv.payee.length, 66);
      } catch (err) {
        assert.ok(isWardenError(err, 'INVALID_INVOICE'), String(err));
      }
    }),
    { numRuns: 3000 },
  );
  assert.equal(refusal('ln'.padEnd(5000, 'q')), 'too_long');
  assert.equal(refusal(42), 'not_a_string');
});
