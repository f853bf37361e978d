/**
 * BIP-39 (English) codec that works on bytes only.
 *
 * Warden keeps secrets in Uint8Array so they can be wiped; JavaScript strings are immutable and
 * cannot be. @scure/bip39 takes and returns mnemonic strings, so this module re-implements the
 * BIP-39 *encoding* (11-bit word indices, SHA-256 checksum) on bytes and uses @noble/hashes for
 * every cryptographic primitive (sha256 for the checksum, PBKDF2-HMAC-SHA512 for the seed).
 *
 * - A mnemonic is handled as its UTF-8 bytes: lowercase English words separated by single spaces
 *   (the canonical form returned by {@link mnemonicBytesFromEntropy}). The parser also accepts
 *   leading/trailing whitespace, runs of spaces/tabs/newlines between words, and uppercase ASCII.
 * - Only the English wordlist is supported. Its words are public, so they are kept as strings and
 *   as byte arrays; a word of the caller's mnemonic is never turned into a string: it is looked up
 *   by a number built from its first four bytes (English BIP-39 words are unique in their first
 *   four letters) and then compared byte by byte.
 * - Every temporary buffer holding secret-derived data (index arrays, bit buffers, hash outputs,
 *   PBKDF2 inputs) is zeroed before returning or throwing. Returned buffers belong to the caller,
 *   who must wipe them (`wipe` from src/core/bytes.ts) when done. Inputs are never modified.
 * - Error messages never contain the caller's words. They are also phrased without any word of the
 *   BIP-39 English list (e.g. "requires" rather than "must have"), so a message can never be
 *   mistaken for, or leak, part of a mnemonic.
 */
import { randomBytes } from 'node:crypto';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { wordlist as englishWordlist } from '@scure/bip39/wordlists/english.js';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';

/** Entropy sizes allowed by BIP-39, in bytes (128, 160, 192, 224 and 256 bits). */
export const ENTROPY_LENGTHS: readonly number[] = Object.freeze([16, 20, 24, 28, 32]);

/** Mnemonic lengths allowed by BIP-39, in words (one per entropy size above). */
export const MNEMONIC_WORD_COUNTS: readonly number[] = Object.freeze([12, 15, 18, 21, 24]);

/** PBKDF2 parameters fixed by BIP-39. */
const SEED_ITERATIONS = 2048;
const SEED_LENGTH = 64;
/** The PBKDF2 salt prefix "mnemonic" (ASCII). */
const SALT_PREFIX = new Uint8Array([0x6d, 0x6e, 0x65, 0x6d, 0x6f, 0x6e, 0x69, 0x63]);

const SPACE = 0x20;
const MAX_WORDS = 24;

// ---------------------------------------------------------------------------------------------
// The English wordlist as bytes, and a lookup table keyed by the first four letters of each word.
// ---------------------------------------------------------------------------------------------

const WORDS: readonly Uint8Array[] = buildWordBytes(englishWordlist);
const WORD_MIN_LENGTH = 3;
const WORD_MAX_LENGTH = 8;
const INDEX_BY_PREFIX: ReadonlyMap<number, number> = buildPrefixIndex(WORDS);

function buildWordBytes(list: readonly string[]): Uint8Array[] {
  if (list.length !== 2048)
    throw new WardenError('INTERNAL', 'BIP-39 English wordlist has an unexpected size');
  const encoder = new TextEncoder();
  return list.map((w) => {
    const bytes = encoder.encode(w);
    if (bytes.length < 3 || bytes.length > 8 || !bytes.every(isLowerLetter)) {
      throw new WardenError('INTERNAL', 'BIP-39 English wordlist has an unexpected entry');
    }
    return bytes;
  });
}

function buildPrefixIndex(words: readonly Uint8Array[]): Map<number, number> {
  const map = new Map<number, number>();
  words.forEach((w, index) => {
    const key = prefixKey(w, 0, w.length);
    // BIP-39 requires English words to be unique in their first four letters; check it anyway.
    if (map.has(key)) throw new WardenError('INTERNAL', 'BIP-39 English wordlist prefixes are not unique');
    map.set(key, index);
  });
  return map;
}

/**
 * A 32-bit number from the first four (lowercased) letters of `buf[start..start+length)`, padded
 * with zero bytes for three-letter words. No string is created.
 */
function prefixKey(buf: Uint8Array, start: number, length: number): number {
  let key = 0;
  for (let k = 0; k < 4; k++) {
    const b = k < length ? toLower(buf[start + k]!) : 0;
    key = (key << 8) | b;
  }
  return key >>> 0;
}

/** Index in the English wordlist of the word at `buf[start..start+length)`, or -1. */
function lookupWord(buf: Uint8Array, start: number, length: number): number {
  if (length < WORD_MIN_LENGTH || length > WORD_MAX_LENGTH) return -1;
  const index = INDEX_BY_PREFIX.get(prefixKey(buf, start, length));
  if (index === undefined) return -1;
  const word = WORDS[index]!;
  if (word.length !== length) return -1;
  for (let k = 4; k < length; k++) {
    if (toLower(buf[start + k]!) !== word[k]) return -1;
  }
  return index;
}

// ---------------------------------------------------------------------------------------------
// Byte classes (ASCII only).
// ---------------------------------------------------------------------------------------------

function isLowerLetter(b: number): boolean {
  return b >= 0x61 && b <= 0x7a;
}

function isLetter(b: number): boolean {
  return isLowerLetter(b) || (b >= 0x41 && b <= 0x5a);
}

/** Lowercases an ASCII letter (bytewise); callers only pass letters. */
function toLower(b: number): number {
  return b | 0x20;
}

/** Space, tab, LF, vertical tab, form feed, CR. */
function isWhitespace(b: number): boolean {
  return b === SPACE || (b >= 0x09 && b <= 0x0d);
}

// ---------------------------------------------------------------------------------------------
// Errors (never mention the caller's words; no BIP-39 English word in any message).
// ---------------------------------------------------------------------------------------------

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  switch (n % 10) {
    case 1:
      return `${n}st`;
    case 2:
      return `${n}nd`;
    case 3:
      return `${n}rd`;
    default:
      return `${n}th`;
  }
}

function wordCountError(got: string): WardenError {
  return new WardenError('INVALID_MNEMONIC', `mnemonic requires 12, 15, 18, 21 or 24 words (got ${got})`);
}

function nonAsciiError(): WardenError {
  return new WardenError(
    'INVALID_MNEMONIC',
    'mnemonic contains non-ASCII bytes: the English BIP-39 wordlist is required (non-English wordlists are not supported)',
  );
}

function badCharacterError(wordNumber: number): WardenError {
  return new WardenError(
    'INVALID_MNEMONIC',
    `the ${ordinal(wordNumber)} of the mnemonic's words contains a non-alphabetic ASCII character`,
  );
}

function unknownWordError(wordNumber: number, count: number): WardenError {
  return new WardenError(
    'INVALID_MNEMONIC',
    `the ${ordinal(wordNumber)} of ${count} mnemonic words is not in the BIP-39 English wordlist`,
  );
}

function checksumError(): WardenError {
  return new WardenError('INVALID_MNEMONIC', 'mnemonic checksum mismatch');
}

function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new WardenError('INVALID_ARGUMENT', `${what} requires a Uint8Array`);
  }
}

function assertEntropy(entropy: unknown): asserts entropy is Uint8Array {
  assertBytes(entropy, 'entropy');
  if (!ENTROPY_LENGTHS.includes(entropy.length)) {
    throw new WardenError(
      'INVALID_ARGUMENT',
      `entropy requires 16, 20, 24, 28 or 32 bytes (got ${entropy.length})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Bit helpers (big-endian bit order, as in BIP-39).
// ---------------------------------------------------------------------------------------------

function read11(buf: Uint8Array, bitOffset: number): number {
  let value = 0;
  for (let k = 0; k < 11; k++) {
    const bit = bitOffset + k;
    value = (value << 1) | ((buf[bit >> 3]! >> (7 - (bit & 7))) & 1);
  }
  return value;
}

function write11(buf: Uint8Array, bitOffset: number, value: number): void {
  for (let k = 0; k < 11; k++) {
    if ((value >> (10 - k)) & 1) {
      const bit = bitOffset + k;
      buf[bit >> 3] = buf[bit >> 3]! | (0x80 >> (bit & 7));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Encodes entropy (16, 20, 24, 28 or 32 bytes) as the UTF-8 bytes of its English BIP-39 mnemonic,
 * words joined by single spaces. The result is built by copying wordlist bytes into a preallocated
 * buffer; no string holding the mnemonic exists. The caller owns (and should wipe) the result.
 */
export function mnemonicBytesFromEntropy(entropy: Uint8Array): Uint8Array {
  assertEntropy(entropy);
  const wordCount = ((entropy.length * 8) / 32) * 3; // (ENT + ENT/32) / 11
  // entropy || checksum: the checksum is ENT/32 <= 8 bits, so one byte of SHA-256 suffices.
  const bits = new Uint8Array(entropy.length + 1);
  const indices = new Uint16Array(wordCount);
  let hash: Uint8Array | undefined;
  try {
    bits.set(entropy);
    hash = sha256(entropy);
    bits[entropy.length] = hash[0]!;
    let length = wordCount - 1; // separators
    for (let i = 0; i < wordCount; i++) {
      const index = read11(bits, i * 11);
      indices[i] = index;
      length += WORDS[index]!.length;
    }
    const out = new Uint8Array(length);
    let pos = 0;
    for (let i = 0; i < wordCount; i++) {
      if (i > 0) out[pos++] = SPACE;
      const word = WORDS[indices[i]!]!;
      out.set(word, pos);
      pos += word.length;
    }
    return out;
  } finally {
    wipe(bits, hash);
    indices.fill(0);
  }
}

/**
 * Decodes the UTF-8 bytes of an English BIP-39 mnemonic into its entropy.
 *
 * Accepts leading/trailing whitespace, runs of spaces/tabs/newlines between words and uppercase
 * ASCII letters. Throws WardenError INVALID_MNEMONIC for anything else: non-ASCII bytes (only the
 * English wordlist is supported), other characters, a word count other than 12/15/18/21/24, a word
 * missing from the English list, or a checksum mismatch. The input is not modified. The caller
 * owns (and should wipe) the result.
 */
export function entropyFromMnemonicBytes(mnemonic: Uint8Array): Uint8Array {
  assertBytes(mnemonic, 'mnemonic');
  const n = mnemonic.length;

  // Pass 1: characters and word count (nothing secret is stored).
  for (let i = 0; i < n; i++) {
    if (mnemonic[i]! >= 0x80) throw nonAsciiError();
  }
  let count = 0;
  let inWord = false;
  for (let i = 0; i < n; i++) {
    const b = mnemonic[i]!;
    if (isWhitespace(b)) {
      inWord = false;
      continue;
    }
    if (!inWord) {
      inWord = true;
      count++;
      // Stop early on huge inputs.
      if (count > MAX_WORDS) throw wordCountError(`at least ${MAX_WORDS + 1}`);
    }
    if (!isLetter(b)) throw badCharacterError(count);
  }
  if (!MNEMONIC_WORD_COUNTS.includes(count)) throw wordCountError(String(count));

  // Pass 2: word indices, packed into entropy || checksum bits.
  const indices = new Uint16Array(count);
  const bits = new Uint8Array(Math.ceil((count * 11) / 8));
  let hash: Uint8Array | undefined;
  try {
    let w = 0;
    let i = 0;
    while (w < count) {
      while (isWhitespace(mnemonic[i]!)) i++;
      const start = i;
      while (i < n && !isWhitespace(mnemonic[i]!)) i++;
      const index = lookupWord(mnemonic, start, i - start);
      if (index < 0) throw unknownWordError(w + 1, count);
      indices[w++] = index;
    }
    for (let k = 0; k < count; k++) write11(bits, k * 11, indices[k]!);

    const entropyLength = (count / 3) * 4; // ENT = 32 * count / 3 bits
    const checksumBits = count / 3; // ENT / 32
    const entropy = bits.slice(0, entropyLength);
    hash = sha256(entropy);
    const mask = (0xff << (8 - checksumBits)) & 0xff;
    if (((bits[entropyLength]! ^ hash[0]!) & mask) !== 0) {
      wipe(entropy);
      throw checksumError();
    }
    return entropy;
  } finally {
    wipe(bits, hash);
    indices.fill(0);
  }
}

/**
 * The canonical form of a mnemonic (lowercase words, single spaces, no surrounding whitespace):
 * `mnemonicBytesFromEntropy(entropyFromMnemonicBytes(mnemonic))`. Validates the mnemonic.
 */
export function normalizeMnemonicBytes(mnemonic: Uint8Array): Uint8Array {
  const entropy = entropyFromMnemonicBytes(mnemonic);
  try {
    return mnemonicBytesFromEntropy(entropy);
  } finally {
    wipe(entropy);
  }
}

/**
 * The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512(password = canonical mnemonic bytes,
 * salt = "mnemonic" || passphrase, 2048 iterations).
 *
 * BIP-39 applies NFKD to both the mnemonic and the passphrase. The canonical English mnemonic is
 * lowercase ASCII and spaces, and every ASCII string is already NFKD-normal, so no normalization
 * is needed. A non-ASCII passphrase would need NFKD, which JavaScript only offers on strings (that
 * could not be wiped), so passphrases are restricted to ASCII bytes: anything else throws
 * WardenError INVALID_ARGUMENT. The mnemonic is validated (word list and checksum) first, so an
 * invalid mnemonic throws INVALID_MNEMONIC. Inputs are not modified; the caller owns the result.
 */
export function seedFromMnemonicBytes(mnemonic: Uint8Array, passphrase?: Uint8Array): Uint8Array {
  if (passphrase !== undefined) {
    assertBytes(passphrase, 'passphrase');
    for (let i = 0; i < passphrase.length; i++) {
      if (passphrase[i]! >= 0x80) {
        throw new WardenError(
          'INVALID_ARGUMENT',
          'BIP-39 passphrases are restricted to ASCII bytes here (non-ASCII passphrases require NFKD normalization, which requires a JS string)',
        );
      }
    }
  }
  const normalized = normalizeMnemonicBytes(mnemonic);
  const salt = new Uint8Array(SALT_PREFIX.length + (passphrase?.length ?? 0));
  try {
    salt.set(SALT_PREFIX);
    if (passphrase !== undefined) salt.set(passphrase, SALT_PREFIX.length);
    return pbkdf2(sha512, normalized, salt, { c: SEED_ITERATIONS, dkLen: SEED_LENGTH });
  } finally {
    wipe(normalized, salt);
  }
}

/**
 * Fresh random entropy from node:crypto (default 32 bytes = a 24-word mnemonic). The result has its
 * own ArrayBuffer of exactly `bytes` bytes (it never shares a Buffer pool slab) and the Buffer
 * returned by randomBytes is zeroed. Throws INVALID_ARGUMENT unless `bytes` is 16, 20, 24, 28 or 32.
 */
export function generateEntropy(bytes = 32): Uint8Array {
  if (!ENTROPY_LENGTHS.includes(bytes)) {
    throw new WardenError('INVALID_ARGUMENT', `entropy requires 16, 20, 24, 28 or 32 bytes (got ${bytes})`);
  }
  const random = randomBytes(bytes);
  try {
    const out = new Uint8Array(new ArrayBuffer(bytes));
    out.set(random);
    return out;
  } finally {
    random.fill(0);
  }
}
