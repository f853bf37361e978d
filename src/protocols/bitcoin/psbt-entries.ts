/**
 * A count of a PSBT's key-value entries, read from the raw bytes before the library decodes them
 * (BIP-174 framing only: magic, then maps of <keylen><key><vallen><value> ended by 0x00). The
 * library checks every public key it reads (a point decompression each), so a 60 KB PSBT of a
 * thousand PSBT_IN_BIP32_DERIVATION entries costs seconds across the decodes of one request; the
 * caps below are checked here first, so such a PSBT costs one linear scan. Nothing is judged here
 * but counts: the library still decodes and checks whatever passes.
 */
import { WardenError } from '../../core/errors.ts';

/**
 * The most entries of one key type in one map. A single-key wallet writes one derivation per
 * input or output; a multisig of up to 16 keys (the most a standard bare/P2SH script holds)
 * writes 16.
 */
export const MAX_ENTRIES_PER_MAP = 16;
/**
 * The most entries keyed by a public key in all the input and output maps together: derivations
 * (BIP-32 and taproot), partial and taproot script signatures, leaf scripts. With the caps on the
 * keys of ours (accounts.ts MAX_DERIVATIONS), a PSBT needing more is not one to sign in one go.
 */
export const MAX_KEYED_ENTRIES = 64;

/** Key types (input or output maps) whose key holds a public key the library checks. */
const KEYED_TYPES = new Set([
  0x02, // in: PARTIAL_SIG; out: BIP32_DERIVATION
  0x06, // in: BIP32_DERIVATION
  0x07, // out: TAP_BIP32_DERIVATION (in: FINAL_SCRIPTSIG, one at most)
  0x14, // in: TAP_SCRIPT_SIG
  0x15, // in: TAP_LEAF_SCRIPT
  0x16, // in: TAP_BIP32_DERIVATION
]);
const GLOBAL_XPUB = 0x01;
const MAGIC = [0x70, 0x73, 0x62, 0x74, 0xff];

export interface PsbtEntries {
  /** The version bytes of each PSBT_GLOBAL_XPUB (big-endian, the first 4 bytes of its key data). */
  globalXpubVersions: number[];
}

function fail(reason: string, message: string, details: Record<string, number> = {}): never {
  throw new WardenError('INVALID_REQUEST', `psbt ${message}`, { field: 'psbt', reason, ...details });
}

/** Refuses the PSBT past the caps; `not_psbt` when its framing is broken. */
export function scanPsbtEntries(bytes: Uint8Array): PsbtEntries {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b))
    fail('not_psbt', 'is not a valid PSBT (BIP-174 version 0 or BIP-370 version 2)');
  let at = MAGIC.length;
  const compactSize = (): number => {
    const first = bytes[at];
    if (first === undefined) return fail('not_psbt', 'is truncated');
    const width = first < 0xfd ? 0 : first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    if (at + 1 + width > bytes.length) fail('not_psbt', 'is truncated');
    let n = width === 0 ? first : 0;
    // Little-endian; any length past the PSBT's own size is refused just below.
    for (let i = width; i > 0; i--) n = n * 256 + bytes[at + i]!;
    at += 1 + width;
    if (n > bytes.length) fail('not_psbt', 'is truncated');
    return n;
  };
  const globalXpubVersions: number[] = [];
  let keyed = 0;
  for (let map = 0; at < bytes.length; map++) {
    const perType = new Map<number, number>();
    for (;;) {
      const keyLength = compactSize();
      if (keyLength === 0) break;
      if (at + keyLength > bytes.length) fail('not_psbt', 'is truncated');
      const type = bytes[at]!;
      if (map === 0 && type === GLOBAL_XPUB && keyLength >= 5)
        globalXpubVersions.push(
          ((bytes[at + 1]! << 24) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 8) | bytes[at + 4]!) >>> 0,
        );
      at += keyLength;
      const valueLength = compactSize();
      if (at + valueLength > bytes.length) fail('not_psbt', 'is truncated');
      at += valueLength;
      const count = (perType.get(type) ?? 0) + 1;
      perType.set(type, count);
      if (count > MAX_ENTRIES_PER_MAP)
        fail('too_many_entries', `has more than ${MAX_ENTRIES_PER_MAP} entries of one type in one map`, {
          cap: MAX_ENTRIES_PER_MAP,
        });
      if (map > 0 && KEYED_TYPES.has(type) && ++keyed > MAX_KEYED_ENTRIES)
        fail('too_many_entries', `has more than ${MAX_KEYED_ENTRIES} key derivations and signatures`, {
          cap: MAX_KEYED_ENTRIES,
        });
    }
  }
  return { globalXpubVersions };
}
