import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { entropyToMnemonic, mnemonicToEntropy, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import fc from 'fast-check';
import { wipe } from '../../src/core/bytes.ts';
import { WardenError } from '../../src/core/errors.ts';
import {
  ENTROPY_LENGTHS,
  entropyFromMnemonicBytes,
  generateEntropy,
  MNEMONIC_WORD_COUNTS,
  mnemonicBytesFromEntropy,
  normalizeMnemonicBytes,
  seedFromMnemonicBytes,
} from '../../src/keys/mnemonic.ts';

// ---------------------------------------------------------------------------------------------
// Helpers (strings are fine in tests)
// ---------------------------------------------------------------------------------------------

const SIZES = [16, 20, 24, 28, 32] as const;
const ENGLISH = new Set(wordlist);
const enc = new TextEncoder();
const dec = new TextDecoder();
const utf8 = (s: string): Uint8Array => enc.encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

const entropyArb = fc.constantFrom(...SIZES).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
const entropyOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

/** Letter runs of a message, lowercased. */
function messageTokens(message: string): string[] {
  return message
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .filter((t) => t.length > 0);
}

/** Whitespace-separated tokens of an input (including U+3000 ideographic space), lowercased. */
function inputTokens(input: string): string[] {
  return input
    .toLowerCase()
    .split(/[\s\u3000]+/u)
    .filter((t) => t.length > 0);
}

/**
 * Every letter run that may appear in an error message of the module (digits aside). Messages are
 * built only from these, so they cannot carry any of the caller's words.
 */
const MESSAGE_VOCABULARY = new Set(
  (
    'the of mnemonic words is not in bip english wordlist requires or got at least contains non ascii ' +
    'bytes required wordlists are supported s a alphabetic character checksum mismatch st nd rd th'
  ).split(' '),
);

/**
 * Runs `fn`, expects WardenError INVALID_MNEMONIC, and checks that the message and details are made
 * of the module's fixed vocabulary only: no BIP-39 English word, none of the input's words.
 * Returns the message.
 */
function expectInvalidMnemonic(fn: () => unknown, input: string, pattern?: RegExp): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WardenError, `expected a WardenError, got ${String(caught)}`);
  assert.equal(caught.code, 'INVALID_MNEMONIC');
  assert.deepEqual(caught.details, {});
  const words = new Set(inputTokens(input));
  for (const t of messageTokens(caught.message)) {
    assert.ok(MESSAGE_VOCABULARY.has(t), `unexpected "${t}" in error message: ${caught.message}`);
    assert.ok(!ENGLISH.has(t), `error message contains a BIP-39 English word: ${caught.message}`);
  }
  for (const w of words) {
    if (MESSAGE_VOCABULARY.has(w)) continue; // e.g. a random "unknown word" that happens to be "the"
    assert.ok(
      !messageTokens(caught.message).includes(w),
      `error message leaks an input word: ${caught.message}`,
    );
  }
  if (pattern) assert.match(caught.message, pattern);
  return caught.message;
}

const COUNT = /requires 12, 15, 18, 21 or 24 words/;
const NON_ENGLISH = /non-English wordlists are not supported/;
const CHECKSUM = /checksum mismatch/;
const UNKNOWN = /is not in the BIP-39 English wordlist/;
const BAD_CHAR = /non-alphabetic ASCII character/;

function ordinal(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

// ---------------------------------------------------------------------------------------------
// Official BIP-39 vectors (trezor/python-mnemonic vectors.json, see PROVENANCE.txt)
// ---------------------------------------------------------------------------------------------

const VECTORS_DIR = new URL('../../../shared/vectors/bitcoin/', import.meta.url);
const VECTORS_FILE = new URL('bip39-vectors.json', VECTORS_DIR);
type Vector = [entropyHex: string, mnemonic: string, seedHex: string, xprv: string];
const vectorsPresent = existsSync(VECTORS_FILE);
const vectors: Record<string, Vector[]> = vectorsPresent
  ? (JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as Record<string, Vector[]>)
  : {};
const english = vectors.english ?? [];
const skipVectors = vectorsPresent
  ? false
  : `shared vectors not found at ${fileURLToPath(VECTORS_FILE)}; skipping BIP-39 vector replay`;

test('BIP-39 vector file matches the sha256 recorded in PROVENANCE.txt', { skip: skipVectors }, () => {
  const provenance = readFileSync(new URL('PROVENANCE.txt', VECTORS_DIR), 'utf8');
  const section = provenance.slice(provenance.indexOf('bip39-vectors.json'));
  const recorded = /sha256 ([0-9a-f]{64})/.exec(section)?.[1];
  assert.ok(recorded, 'PROVENANCE.txt records a sha256 for bip39-vectors.json');
  assert.equal(hex(sha256(readFileSync(VECTORS_FILE))), recorded);
  assert.equal(english.length, 24, 'the standard file has 24 English vectors');
});

for (const [i, vector] of english.entries()) {
  const [entropyHex, mnemonic, seedHex] = vector;
  test(`BIP-39 English vector ${i}: ${entropyHex.length * 4}-bit entropy`, () => {
    const entropy = fromHex(entropyHex);
    const words = mnemonicBytesFromEntropy(entropy);
    assert.equal(dec.decode(words), mnemonic, 'entropy -> mnemonic bytes');
    assert.equal(hex(entropyFromMnemonicBytes(utf8(mnemonic))), entropyHex, 'mnemonic -> entropy');
    assert.equal(hex(normalizeMnemonicBytes(utf8(mnemonic))), hex(utf8(mnemonic)), 'already canonical');
    // BIP-39 test vectors all use the passphrase "TREZOR".
    assert.equal(hex(seedFromMnemonicBytes(utf8(mnemonic), utf8('TREZOR'))), seedHex, 'seed');
    // The same phrase typed messily gives the same entropy and seed.
    const messy = `\n  ${mnemonic.toUpperCase().split(' ').join(' \t ')}\r\n`;
    assert.equal(hex(entropyFromMnemonicBytes(utf8(messy))), entropyHex);
    assert.equal(hex(seedFromMnemonicBytes(utf8(messy), utf8('TREZOR'))), seedHex);
  });
}

if (!vectorsPresent) {
  test.skip(`shared vectors not found at ${fileURLToPath(VECTORS_DIR)}; skipping BIP-39 vector replay`);
}

test('BIP-39 vectors of every other language are refused (only English is supported)', {
  skip: skipVectors,
}, () => {
  const languages = Object.keys(vectors).filter((l) => l !== 'english');
  assert.ok(languages.length > 0, 'the vector file has non-English vectors');
  let refused = 0;
  let nonAscii = 0;
  for (const language of languages) {
    for (const [, mnemonic] of vectors[language] ?? []) {
      const pattern = /^[\x20-\x7e]*$/.test(mnemonic) ? UNKNOWN : NON_ENGLISH;
      if (pattern === NON_ENGLISH) nonAscii++;
      expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(mnemonic)), mnemonic, pattern);
      expectInvalidMnemonic(() => seedFromMnemonicBytes(utf8(mnemonic), utf8('TREZOR')), mnemonic, pattern);
      refused++;
    }
  }
  assert.equal(refused, languages.length * 24);
  assert.ok(nonAscii > 0, 'at least one non-ASCII vector was refused as non-English');
});

// ---------------------------------------------------------------------------------------------
// Cross-check with @scure/bip39
// ---------------------------------------------------------------------------------------------

for (const size of SIZES) {
  test(`matches @scure/bip39 for ${size}-byte entropy (mnemonic and round trip)`, () => {
    fc.assert(
      fc.property(entropyOf(size), (entropy) => {
        const copy = entropy.slice();
        const ours = mnemonicBytesFromEntropy(entropy);
        const theirs = entropyToMnemonic(entropy, wordlist);
        assert.equal(dec.decode(ours), theirs);
        assert.equal(theirs.split(' ').length, (size * 3) / 4);
        assert.deepEqual(entropyFromMnemonicBytes(ours), entropy);
        assert.deepEqual(entropyFromMnemonicBytes(ours), new Uint8Array(mnemonicToEntropy(theirs, wordlist)));
        assert.deepEqual(entropy, copy, 'entropy input is not modified');
      }),
      { numRuns: 200 },
    );
  });

  test(`matches @scure/bip39 mnemonicToSeedSync for ${size}-byte entropy`, () => {
    fc.assert(
      fc.property(
        entropyOf(size),
        fc.option(fc.string({ unit: 'binary-ascii', maxLength: 24 }), { nil: undefined }),
        (entropy, passphrase) => {
          const mnemonic = entropyToMnemonic(entropy, wordlist);
          const ours =
            passphrase === undefined
              ? seedFromMnemonicBytes(utf8(mnemonic))
              : seedFromMnemonicBytes(utf8(mnemonic), utf8(passphrase));
          assert.equal(hex(ours), hex(mnemonicToSeedSync(mnemonic, passphrase)));
        },
      ),
      { numRuns: 15 },
    );
  });
}

test('seed with an empty passphrase equals the seed with no passphrase', () => {
  const m = utf8(entropyToMnemonic(new Uint8Array(16).fill(7), wordlist));
  assert.deepEqual(seedFromMnemonicBytes(m), seedFromMnemonicBytes(m, new Uint8Array(0)));
  assert.equal(seedFromMnemonicBytes(m).length, 64);
});

// ---------------------------------------------------------------------------------------------
// Messy but valid input
// ---------------------------------------------------------------------------------------------

test('messy whitespace and uppercase are accepted and normalized', () => {
  const sep = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), minLength: 1, maxLength: 4 });
  const optSep = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), maxLength: 4 });
  fc.assert(
    fc.property(
      entropyArb,
      fc.array(sep, { minLength: 23, maxLength: 23 }),
      optSep,
      optSep,
      fc.array(fc.boolean(), { minLength: 24 * 8, maxLength: 24 * 8 }),
      (entropy, seps, lead, trail, upper) => {
        const words = entropyToMnemonic(entropy, wordlist).split(' ');
        let k = 0;
        const cased = words.map((w) =>
          [...w].map((c) => ((upper[k++] ?? false) ? c.toUpperCase() : c)).join(''),
        );
        const messy = lead + cased.map((w, i) => (i === 0 ? w : (seps[i - 1] ?? ' ') + w)).join('') + trail;
        const input = utf8(messy);
        const before = input.slice();
        assert.deepEqual(entropyFromMnemonicBytes(input), entropy);
        assert.equal(dec.decode(normalizeMnemonicBytes(input)), words.join(' '));
        assert.deepEqual(input, before, 'input is not modified (no in-place lowercasing)');
      },
    ),
    { numRuns: 300 },
  );
  // Hand-picked.
  const canonical = 'legal winner thank year wave sausage worth useful legal winner thank yellow';
  const messy = '\t\t LEGAL  Winner\nthank\r\nyEaR wave   sausage\tworth useful legal winner thank YELLOW \n';
  assert.equal(dec.decode(normalizeMnemonicBytes(utf8(messy))), canonical);
  assert.deepEqual(seedFromMnemonicBytes(utf8(messy), utf8('x')), mnemonicToSeedSync(canonical, 'x'));
});

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

test('wrong word counts are refused without echoing words (generated)', () => {
  fc.assert(
    fc.property(
      fc
        .array(fc.constantFrom(...wordlist), { maxLength: 40 })
        .filter((ws) => !MNEMONIC_WORD_COUNTS.includes(ws.length)),
      (words) => {
        const input = words.join(' ');
        const message = expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, COUNT);
        assert.ok(message.includes(words.length > 24 ? '(got at least 25)' : `(got ${words.length})`));
      },
    ),
    { numRuns: 300 },
  );
});

test('empty, blank and huge inputs are refused', () => {
  for (const input of ['', ' ', '\n\t \r\n', 'abandon']) {
    expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, COUNT);
  }
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(new Uint8Array(0)), '', /\(got 0\)/);
  // 25 valid words, and 10 000 words (stops early).
  const v = 'abandon ';
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(v.repeat(25))), v, /got at least 25/);
  const huge = utf8(v.repeat(10_000));
  const start = performance.now();
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(huge), v, /got at least 25/);
  assert.ok(performance.now() - start < 1000);
  // 10 000 random English words.
  const many = Array.from({ length: 10_000 }, (_, i) => wordlist[(i * 7919) % 2048]).join('\n');
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(many)), many, COUNT);
  expectInvalidMnemonic(() => seedFromMnemonicBytes(utf8(many)), many, COUNT);
});

test('unknown words are refused, naming only their position (generated)', () => {
  const unknownWord = fc
    .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 1, maxLength: 12 })
    .filter((w) => !ENGLISH.has(w));
  fc.assert(
    fc.property(entropyArb, unknownWord, fc.nat(), fc.boolean(), (entropy, bad, pos, upper) => {
      const words = entropyToMnemonic(entropy, wordlist).split(' ');
      const k = pos % words.length;
      words[k] = upper ? bad.toUpperCase() : bad;
      const input = words.join(' ');
      const message = expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, UNKNOWN);
      assert.ok(message.startsWith(`the ${ordinal(k + 1)} of ${words.length} `), message);
    }),
    { numRuns: 300 },
  );
  // Hand-picked: prefixes, extensions and near misses of real words.
  const base = 'legal winner thank year wave sausage worth useful legal winner thank yellow'.split(' ');
  for (const bad of ['aban', 'abandonx', 'abandons', 'abando', 'zzz', 'zoox', 'acts', 'ac', 'abcdefghijkl']) {
    const words = [...base];
    words[6] = bad;
    const input = words.join(' ');
    const message = expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, UNKNOWN);
    assert.ok(message.startsWith('the 7th of 12 '), message);
  }
});

test('a changed word is refused by the checksum exactly when @scure/bip39 refuses it (generated)', () => {
  let refused = 0;
  fc.assert(
    fc.property(entropyArb, fc.nat(), fc.integer({ min: 1, max: 2047 }), (entropy, pos, delta) => {
      const words = entropyToMnemonic(entropy, wordlist).split(' ');
      const k = pos % words.length;
      words[k] = wordlist[(wordlist.indexOf(words[k] ?? '') + delta) % 2048] ?? '';
      const input = words.join(' ');
      if (validateMnemonic(input, wordlist)) {
        assert.deepEqual(entropyFromMnemonicBytes(utf8(input)), mnemonicToEntropy(input, wordlist));
      } else {
        refused++;
        expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, CHECKSUM);
        expectInvalidMnemonic(() => seedFromMnemonicBytes(utf8(input)), input, CHECKSUM);
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(refused > 100);
  // Hand-picked: twelve "abandon" fails the checksum; the last word "about" fixes it.
  const abandon12 = Array(12).fill('abandon').join(' ');
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(abandon12)), abandon12, CHECKSUM);
  assert.deepEqual(
    entropyFromMnemonicBytes(utf8(`${Array(11).fill('abandon').join(' ')} about`)),
    new Uint8Array(16),
  );
  // The all-0xff 24-word vector, then with its last word swapped.
  const ones24 = `${Array(23).fill('zoo').join(' ')} vote`;
  assert.deepEqual(entropyFromMnemonicBytes(utf8(ones24)), new Uint8Array(32).fill(0xff));
  const ones24bad = `${Array(23).fill('zoo').join(' ')} zoo`;
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(ones24bad)), ones24bad, CHECKSUM);
});

test('non-ASCII input is refused as non-English (generated and hand-picked)', () => {
  const nonAsciiChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c > '\x7f');
  fc.assert(
    fc.property(entropyArb, nonAsciiChar, fc.nat(), (entropy, c, pos) => {
      const valid = entropyToMnemonic(entropy, wordlist);
      const at = pos % (valid.length + 1);
      const input = valid.slice(0, at) + c + valid.slice(at);
      expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, NON_ENGLISH);
    }),
    { numRuns: 300 },
  );
  const base =
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
  for (const input of [
    base.replace('about', 'abóut'),
    base.replaceAll(' ', '\u00a0'), // no-break space
    base.replaceAll(' ', '\u3000'), // ideographic space (Japanese separator)
    `\ufeff${base}`, // byte order mark
    base.replace('about', 'аbout'), // Cyrillic а
  ]) {
    expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, NON_ENGLISH);
  }
  // Invalid UTF-8 is non-ASCII too.
  const raw = Uint8Array.from([...utf8(base), 0xff]);
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(raw), base, NON_ENGLISH);
});

test('ASCII characters other than letters and whitespace are refused', () => {
  const base =
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
  for (const input of [
    base.replace('about', 'about.'),
    base.replace(' ', ', '),
    base.replace('about', 'ab0ut'),
    base.replace(' ', '-'),
    `1. ${base}`,
    `${base}\0`,
  ]) {
    expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input, BAD_CHAR);
  }
  const message = expectInvalidMnemonic(
    () => entropyFromMnemonicBytes(utf8(base.replace('about', 'ab0ut'))),
    base,
  );
  assert.ok(message.startsWith('the 12th '), message);
});

test('arbitrary bytes never crash: valid input or INVALID_MNEMONIC (generated)', () => {
  const piece = fc.oneof(
    fc.constantFrom(...wordlist),
    fc.constantFrom(' ', '\t', '\n', 'é', '1', '.', 'ABANDON'),
    fc.string({ maxLength: 6 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
      const input = pieces.join(' ');
      let entropy: Uint8Array | undefined;
      try {
        entropy = entropyFromMnemonicBytes(utf8(input));
      } catch {
        expectInvalidMnemonic(() => entropyFromMnemonicBytes(utf8(input)), input);
        return;
      }
      assert.deepEqual(
        entropy,
        mnemonicToEntropy(input.toLowerCase().trim().split(/\s+/).join(' '), wordlist),
      );
    }),
    { numRuns: 500 },
  );
});

test('wrong argument types and sizes are INVALID_ARGUMENT', () => {
  const isArg = (err: unknown) => err instanceof WardenError && err.code === 'INVALID_ARGUMENT';
  for (const n of [0, 1, 15, 17, 31, 33, 64]) {
    assert.throws(() => mnemonicBytesFromEntropy(new Uint8Array(n)), isArg);
    assert.throws(() => generateEntropy(n), isArg);
  }
  const asBytes = (v: unknown) => v as Uint8Array;
  assert.throws(() => entropyFromMnemonicBytes(asBytes('abandon about')), isArg);
  assert.throws(() => mnemonicBytesFromEntropy(asBytes(Array(16).fill(0))), isArg);
  const m = mnemonicBytesFromEntropy(new Uint8Array(16));
  assert.throws(() => seedFromMnemonicBytes(m, asBytes('TREZOR')), isArg);
  // Non-ASCII passphrases would need NFKD (a string): refused.
  assert.throws(
    () => seedFromMnemonicBytes(m, utf8('pässword')),
    (err: unknown) => {
      assert.ok(isArg(err));
      assert.ok(!(err as Error).message.includes('pässword'));
      return true;
    },
  );
  assert.throws(() => seedFromMnemonicBytes(m, Uint8Array.of(0x80)), isArg);
});

// ---------------------------------------------------------------------------------------------
// Buffers: inputs untouched, outputs independent and wipeable, entropy generation
// ---------------------------------------------------------------------------------------------

test('inputs are never modified and outputs are fresh buffers', () => {
  const entropy = fromHex('7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f');
  const words = mnemonicBytesFromEntropy(entropy);
  assert.equal(hex(entropy), '7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f');
  assert.notEqual(words.buffer, entropy.buffer);

  const upper = utf8('  LEGAL WINNER THANK YEAR WAVE SAUSAGE WORTH USEFUL LEGAL WINNER THANK YELLOW\n');
  const upperCopy = upper.slice();
  const decoded = entropyFromMnemonicBytes(upper);
  assert.deepEqual(upper, upperCopy);
  assert.deepEqual(decoded, entropy);
  assert.notEqual(decoded.buffer, upper.buffer);

  const normalized = normalizeMnemonicBytes(upper);
  assert.deepEqual(upper, upperCopy);
  assert.deepEqual(normalized, words);

  const passphrase = utf8('TREZOR');
  const seed = seedFromMnemonicBytes(upper, passphrase);
  assert.deepEqual(upper, upperCopy);
  assert.equal(dec.decode(passphrase), 'TREZOR');
  assert.equal(hex(seed), hex(mnemonicToSeedSync(dec.decode(words), 'TREZOR')));

  // Wiping returned buffers (wipe from src/core/bytes.ts) zeroes them and does not affect later calls.
  wipe(words, decoded, normalized, seed);
  for (const b of [words, decoded, normalized, seed]) assert.ok(b.every((x) => x === 0));
  assert.deepEqual(entropyFromMnemonicBytes(upper), entropy);
  assert.deepEqual(mnemonicBytesFromEntropy(entropy), utf8(dec.decode(upperCopy).trim().toLowerCase()));
});

test('a failed decode leaves the input untouched', () => {
  const input = utf8(
    'ABANDON abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon ABANDON',
  );
  const copy = input.slice();
  expectInvalidMnemonic(() => entropyFromMnemonicBytes(input), 'abandon', CHECKSUM);
  assert.deepEqual(input, copy);
});

test('generateEntropy returns independent random buffers of the requested size', () => {
  const def = generateEntropy();
  assert.equal(def.length, 32);
  for (const size of ENTROPY_LENGTHS) {
    const a = generateEntropy(size);
    const b = generateEntropy(size);
    assert.equal(a.length, size);
    // Own ArrayBuffer of exactly `size` bytes: not a view into a Buffer pool slab.
    assert.equal(a.byteOffset, 0);
    assert.equal(a.buffer.byteLength, size);
    assert.notEqual(a.buffer, b.buffer);
    assert.ok(!Buffer.isBuffer(a));
    assert.notDeepEqual(a, b);
    // Usable as BIP-39 entropy.
    assert.deepEqual(entropyFromMnemonicBytes(mnemonicBytesFromEntropy(a)), a);
    wipe(a);
    assert.ok(a.every((x) => x === 0));
    assert.ok(
      b.some((x) => x !== 0),
      'wiping one result does not affect another',
    );
  }
});

test('English BIP-39 words are unique in their first four letters (the lookup relies on it)', () => {
  for (const t of MESSAGE_VOCABULARY)
    assert.ok(!ENGLISH.has(t), `message vocabulary "${t}" is a BIP-39 word`);
  assert.equal(new Set(wordlist.map((w) => w.slice(0, 4))).size, 2048);
  assert.deepEqual(ENTROPY_LENGTHS, [16, 20, 24, 28, 32]);
  assert.deepEqual(MNEMONIC_WORD_COUNTS, [12, 15, 18, 21, 24]);
});
