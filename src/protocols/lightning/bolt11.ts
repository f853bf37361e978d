/**
 * BOLT 11 invoices, read as a payer must read them before anything is paid: the checksum, the
 * network, the amount in msat, the signature and who made it, the payment hash and secret, the
 * expiry, and the feature bits. Everything the payer must refuse is refused here, with
 * INVALID_INVOICE and `details.reason`; what the spec says to skip (unknown fields, `p`, `s`, `h`
 * and `n` of another length, unknown odd features) is skipped. An expiry or CLTV delta of more
 * than 50 bits is refused rather than skipped: no honest invoice has one. Bech32 from @scure/base, SHA-256 and
 * secp256k1 from @noble: nothing cryptographic is written here.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import { utf8 } from '../../core/bytes.ts';
import { WardenError } from '../../core/errors.ts';
import type { BitcoinNetwork } from '../../keys/derive.ts';

/**
 * Longer than any invoice a wallet writes (a few route hints make ~1,500 characters), short enough
 * that a hostile one costs nothing to refuse.
 */
export const MAX_INVOICE_LENGTH = 4096;

/** `ln` + the BIP-173 prefix of each network, longest first (`bcrt` before `bc`, `tbs` before `tb`). */
const NETWORK_PREFIXES: readonly (readonly [string, BitcoinNetwork])[] = [
  ['bcrt', 'regtest'],
  ['tbs', 'signet'],
  ['tb', 'testnet'],
  ['bc', 'bitcoin'],
];

/** 21,000,000 BTC in msat: no invoice may ask for more money than there is. */
export const MAX_AMOUNT_MSAT = 2_100_000_000_000_000_000n;

/** msat per unit of the amount, by multiplier; `p` is a tenth of a msat (the amount must end in 0). */
const MSAT_PER_UNIT: Readonly<Record<string, bigint>> = {
  '': 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
};

const DEFAULT_EXPIRY_SECONDS = 3600;
const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA = 18;
const TIMESTAMP_WORDS = 7;
const SIGNATURE_WORDS = 104;

/** Tagged field types (their bech32 character's value). */
const FIELD = { p: 1, r: 3, features: 5, x: 6, f: 9, d: 13, s: 16, n: 19, h: 23, c: 24, m: 27 } as const;

/**
 * Feature bits Warden's payer understands in an invoice (BOLT 9, context 9): var_onion_optin,
 * payment_secret, basic_mpp, option_route_blinding, option_payment_metadata. An unknown odd bit
 * is ignored; an unknown even (required) bit refuses the invoice.
 */
const KNOWN_FEATURES = new Set([8, 9, 14, 15, 16, 17, 24, 25, 48, 49]);
/** A feature (by its even bit) and the one it needs: BOLT 9's dependencies among the known ones. */
const FEATURE_NEEDS: readonly (readonly [number, number])[] = [
  [14, 8], // payment_secret needs var_onion_optin
  [16, 14], // basic_mpp needs payment_secret
];

export interface RouteHop {
  pubkey: string;
  shortChannelId: string;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
}

export interface Bolt11Invoice {
  network: BitcoinNetwork;
  /** Null when the invoice names no amount (the payer must then say how much, explicitly). */
  amountMsat: bigint | null;
  /** Seconds since 1970, as signed. */
  timestamp: number;
  expirySeconds: number;
  paymentHash: string;
  paymentSecret: string;
  /** The payee's node id (33-byte compressed key, hex): from `n`, or recovered from the signature. */
  payee: string;
  description: string | null;
  descriptionHash: string | null;
  minFinalCltvExpiryDelta: number;
  /** The feature bits set, ascending. */
  features: number[];
  metadata: string | null;
  routeHints: RouteHop[][];
}

function invalid(
  reason: string,
  message: string,
  details: Record<string, string | number> = {},
): WardenError {
  return new WardenError('INVALID_INVOICE', message, { reason, ...details });
}

/** 5-bit words to bytes, big-endian; with `pad`, zero bits complete the last byte (the signed data). */
function wordsToBytes(words: readonly number[], pad: boolean): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (pad && bits > 0) out.push((acc << (8 - bits)) & 0xff);
  return Uint8Array.from(out);
}

function wordsToInt(words: readonly number[]): number {
  // 10 words are 50 bits: past Number's exact range only above 2^53, which 10 words cannot reach.
  if (words.length > 10) throw invalid('integer_too_large', 'an integer field of the invoice is too large');
  let n = 0;
  for (const w of words) n = n * 32 + w;
  return n;
}

function parseAmount(text: string): bigint | null {
  if (text === '') return null;
  const m = /^([1-9][0-9]*)([munp]?)$/.exec(text);
  if (!m || m[1]!.length > 20) {
    throw invalid(
      'amount_malformed',
      'the invoice amount is not a positive number with an optional m, u, n or p',
    );
  }
  const units = BigInt(m[1]!);
  if (m[2] === 'p') {
    if (units % 10n !== 0n)
      throw invalid('sub_msat_amount', 'the invoice amount is not a whole number of msat');
    return units / 10n;
  }
  return units * MSAT_PER_UNIT[m[2]!]!;
}

function parsePrefix(hrp: string): { network: BitcoinNetwork; amountMsat: bigint | null } {
  if (!hrp.startsWith('ln')) throw invalid('prefix_unknown', 'not a Lightning invoice (no ln prefix)');
  for (const [prefix, network] of NETWORK_PREFIXES) {
    const rest = hrp.slice(2);
    // `lnbcrt…` must not read as `lnbc` with amount `rt…`: the longer prefixes come first, and the
    // amount after a prefix must start with a digit (or be empty).
    if (rest.startsWith(prefix) && /^([0-9].*)?$/.test(rest.slice(prefix.length))) {
      return { network, amountMsat: parseAmount(rest.slice(prefix.length)) };
    }
  }
  throw invalid('prefix_unknown', 'the invoice is for no network Warden knows', { prefix: hrp.slice(0, 12) });
}

function featureBits(words: readonly number[]): number[] {
  const bits: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[words.length - 1 - i]!;
    for (let b = 0; b < 5; b++) if ((word >> b) & 1) bits.push(i * 5 + b);
  }
  return bits;
}

function checkFeatures(bits: readonly number[]): void {
  for (const bit of bits) {
    if (bit % 2 === 0 && !KNOWN_FEATURES.has(bit)) {
      throw invalid(
        'unknown_required_feature',
        `the invoice requires feature ${bit}, which Warden does not know`,
        {
          feature: bit,
        },
      );
    }
  }
  const set = new Set(bits);
  const has = (even: number) => set.has(even) || set.has(even + 1);
  for (const [feature, needs] of FEATURE_NEEDS) {
    if (has(feature) && !has(needs)) {
      throw invalid(
        'feature_dependency',
        `the invoice sets feature ${feature} without ${needs}, which it needs`,
        {
          feature,
        },
      );
    }
  }
}

function routeHints(bytes: Uint8Array): RouteHop[] {
  const HOP = 51;
  if (bytes.length === 0 || bytes.length % HOP !== 0) {
    throw invalid('route_hint_malformed', 'a routing hint of the invoice is not a whole number of hops');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hops: RouteHop[] = [];
  for (let at = 0; at < bytes.length; at += HOP) {
    const scid = view.getBigUint64(at + 33);
    hops.push({
      pubkey: bytesToHex(bytes.subarray(at, at + 33)),
      shortChannelId: `${scid >> 40n}x${(scid >> 16n) & 0xffffffn}x${scid & 0xffffn}`,
      feeBaseMsat: view.getUint32(at + 41),
      feeProportionalMillionths: view.getUint32(at + 45),
      cltvExpiryDelta: view.getUint16(at + 49),
    });
  }
  return hops;
}

interface Fields {
  paymentHash?: Uint8Array;
  paymentSecret?: Uint8Array;
  payee?: Uint8Array;
  descriptionHash?: Uint8Array;
  description?: string;
  expirySeconds?: number;
  minFinalCltvExpiryDelta?: number;
  features: number[];
  metadata?: Uint8Array;
  routeHints: RouteHop[][];
  /** Fields given twice with different values (a second feature field always counts). */
  conflicts: string[];
  featuresSeen?: boolean;
}

/**
 * A field the payer relies on, seen twice: the same value again is harmless; another value makes
 * what would be paid ambiguous, and is refused (after the signature check, which comes first).
 */
function once<K extends keyof Fields>(fields: Fields, key: K, value: Fields[K]): void {
  const seen = fields[key];
  if (seen === undefined) fields[key] = value;
  else if (!sameValue(seen, value)) fields.conflicts.push(String(key));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesToHex(a) === bytesToHex(b);
  return a === b;
}

function readFields(words: readonly number[]): Fields {
  const fields: Fields = { features: [], routeHints: [], conflicts: [] };
  let at = 0;
  while (at < words.length) {
    if (at + 3 > words.length) throw invalid('field_truncated', 'a tagged field of the invoice is cut short');
    const type = words[at]!;
    const length = words[at + 1]! * 32 + words[at + 2]!;
    const data = words.slice(at + 3, at + 3 + length);
    if (data.length !== length)
      throw invalid('field_truncated', 'a tagged field of the invoice is cut short');
    at += 3 + length;
    switch (type) {
      // p, s, h and n of another length are skipped, as the spec says (a future variant).
      case FIELD.p:
        if (length === 52) once(fields, 'paymentHash', wordsToBytes(data, false));
        break;
      case FIELD.s:
        if (length === 52) once(fields, 'paymentSecret', wordsToBytes(data, false));
        break;
      case FIELD.h:
        if (length === 52) once(fields, 'descriptionHash', wordsToBytes(data, false));
        break;
      case FIELD.n:
        if (length === 53) once(fields, 'payee', wordsToBytes(data, false));
        break;
      case FIELD.d:
        once(fields, 'description', decodeDescription(wordsToBytes(data, false)));
        break;
      case FIELD.x:
        once(fields, 'expirySeconds', wordsToInt(data));
        break;
      case FIELD.c:
        once(fields, 'minFinalCltvExpiryDelta', wordsToInt(data));
        break;
      case FIELD.features:
        if (fields.features.length > 0)
          throw invalid('duplicate_field', 'the invoice has two feature fields');
        fields.features = featureBits(data);
        break;
      case FIELD.m:
        once(fields, 'metadata', wordsToBytes(data, false));
        break;
      case FIELD.r:
        fields.routeHints.push(routeHints(wordsToBytes(data, false)));
        break;
      default:
        // Unknown fields, and fallback addresses (`f`): a Lightning payment never uses them.
        break;
    }
  }
  return fields;
}

function decodeDescription(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('description_malformed', 'the invoice description is not valid UTF-8');
  }
}

/**
 * The payee: `n` verified against the signature (low-S only, as libsecp256k1 verifies and as the
 * spec's invalid example requires), else recovered. Recovery accepts a high-S signature, as the
 * spec's valid example requires: its twin with the other S and recovery bit names the same payee
 * for the same signed data, so nothing the payer relies on changes.
 */
function payeeOf(signature: Uint8Array, digest: Uint8Array, stated: Uint8Array | undefined): Uint8Array {
  const recovery = signature[64]!;
  if (recovery > 3) throw invalid('signature_invalid', 'the invoice signature has no valid recovery id');
  const compact = signature.subarray(0, 64);
  try {
    if (stated) {
      if (!secp256k1.verify(compact, digest, stated, { prehash: false, lowS: true })) {
        throw invalid('signature_invalid', 'the invoice is not signed by the payee it names');
      }
      return stated;
    }
    return secp256k1.Signature.fromBytes(compact, 'compact')
      .addRecoveryBit(recovery)
      .recoverPublicKey(digest)
      .toBytes(true);
  } catch (err) {
    if (err instanceof WardenError) throw err;
    throw invalid('signature_invalid', 'the invoice signature is not valid');
  }
}

/** Decodes and checks an invoice; the time checks (expiry) are `checkNotExpired`'s, given a clock. */
export function decodeBolt11(input: unknown): Bolt11Invoice {
  if (typeof input !== 'string') throw invalid('not_a_string', 'the invoice must be a string');
  const text = input.slice(0, 10).toLowerCase() === 'lightning:' ? input.slice(10) : input;
  if (text.length > MAX_INVOICE_LENGTH) {
    throw invalid('too_long', `the invoice is longer than ${MAX_INVOICE_LENGTH} characters`);
  }
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) {
    throw invalid('mixed_case', 'the invoice mixes upper and lower case');
  }
  const decoded = bech32.decodeUnsafe(text.toLowerCase(), false);
  if (!decoded)
    throw invalid('bech32_invalid', 'the invoice is not valid bech32 (its checksum or characters)');
  const { prefix: hrp, words } = decoded;
  const { network, amountMsat } = parsePrefix(hrp);
  if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS)
    throw invalid('too_short', 'the invoice is too short');
  const signed = words.slice(0, words.length - SIGNATURE_WORDS);
  const signature = wordsToBytes(words.slice(words.length - SIGNATURE_WORDS), false);
  const fields = readFields(signed.slice(TIMESTAMP_WORDS));
  const digest = sha256(new Uint8Array([...utf8(hrp), ...wordsToBytes(signed, true)]));
  const payee = payeeOf(signature, digest, fields.payee);
  if (fields.conflicts.length > 0) {
    throw invalid(
      'conflicting_fields',
      `the invoice gives ${fields.conflicts[0]} twice, with different values`,
      {
        field: fields.conflicts[0]!,
      },
    );
  }
  if (!fields.paymentHash) throw invalid('payment_hash_missing', 'the invoice has no payment hash');
  // Compulsory in practice (every wallet sets it) and what keeps intermediate nodes from probing.
  if (!fields.paymentSecret) throw invalid('payment_secret_missing', 'the invoice has no payment secret');
  checkFeatures(fields.features);
  return {
    network,
    amountMsat,
    timestamp: wordsToInt(signed.slice(0, TIMESTAMP_WORDS)),
    expirySeconds: fields.expirySeconds ?? DEFAULT_EXPIRY_SECONDS,
    paymentHash: bytesToHex(fields.paymentHash),
    paymentSecret: bytesToHex(fields.paymentSecret),
    payee: bytesToHex(payee),
    description: fields.description ?? null,
    descriptionHash: fields.descriptionHash ? bytesToHex(fields.descriptionHash) : null,
    minFinalCltvExpiryDelta: fields.minFinalCltvExpiryDelta ?? DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    features: [...fields.features].sort((a, b) => a - b),
    metadata: fields.metadata ? bytesToHex(fields.metadata) : null,
    routeHints: fields.routeHints,
  };
}

/** When the invoice stops being payable (seconds since 1970). */
export function expiresAt(invoice: Bolt11Invoice): number {
  return invoice.timestamp + invoice.expirySeconds;
}

/** Refuses an invoice past its expiry at `now`, or one for another network than the identity's. */
export function checkPayable(invoice: Bolt11Invoice, network: BitcoinNetwork, now: Date): void {
  if (invoice.network !== network) {
    throw invalid(
      'network_mismatch',
      `the invoice is for ${invoice.network}, the identity pays on ${network}`,
      {
        invoiceNetwork: invoice.network,
      },
    );
  }
  if (Math.floor(now.getTime() / 1000) >= expiresAt(invoice)) {
    throw invalid('expired', 'the invoice has expired', {
      expiredAt: new Date(expiresAt(invoice) * 1000).toISOString(),
    });
  }
}
