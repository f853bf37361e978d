import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { generateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import fc from 'fast-check';
import { nip19 } from 'nostr-tools';
import * as nip49 from 'nostr-tools/nip49';
import { WardenError } from '../../src/core/errors.ts';
import { randomId } from '../../src/core/ids.ts';
import {
  CUT,
  MAX_NODES,
  REDACTED,
  redactMnemonics,
  redactString,
  redactValue,
} from '../../src/core/redact.ts';

// fast-check seeds itself from Math.random by default; give it a CSPRNG seed (printed on failure).
const fcParams = () => ({ seed: randomBytes(4).readInt32LE(0), numRuns: 200 });

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const b58check = createBase58check(sha256);

function wif(key: Uint8Array, { testnet = false, compressed = true } = {}): string {
  const payload = new Uint8Array(compressed ? 34 : 33);
  payload[0] = testnet ? 0xef : 0x80;
  payload.set(key, 1);
  if (compressed) payload[33] = 0x01;
  return b58check.encode(payload);
}

const TPRV_VERSIONS = { private: 0x04358394, public: 0x043587cf };

/** Asserts that `secret` is gone from the redaction of `text`, and that a redaction happened. */
function assertRedacted(text: string, secret: string): string {
  const out = redactString(text);
  assert.ok(!out.includes(secret), `secret survived: ${out}`);
  assert.ok(out.includes(REDACTED), `nothing redacted: ${out}`);
  return out;
}

function assertUntouched(text: string): void {
  assert.equal(redactString(text), text);
}

// ---------------------------------------------------------------------------------------------
// Pattern classes in free text

test('64-hex private keys, preimages and 0x-prefixed EVM keys are redacted', () => {
  const key = hex(randomBytes(32));
  assert.equal(redactString(`my key is ${key}`), `my key is ${REDACTED}`);
  assert.equal(redactString(`preimage=${key.toUpperCase()};`), `preimage=${REDACTED};`);
  assert.equal(redactString(`evm key 0x${key} loaded`), `evm key 0x${REDACTED} loaded`);
  assertRedacted(`[${key}]`, key);
});

test('longer hex runs (128-hex seeds, hex macaroons) are redacted whole', () => {
  const seed = hex(randomBytes(64));
  assert.equal(redactString(`seed:${seed}.`), `seed:${REDACTED}.`);
  const macaroon = `0201036c6e6402f801030a10${hex(randomBytes(120))}`;
  assert.equal(redactString(`macaroon ${macaroon}`), `macaroon ${REDACTED}`);
});

test('short hex is kept: operation ids, EVM addresses, 63-hex', () => {
  assertUntouched('operation 0123456789abcdef finished');
  assertUntouched(`sent to 0x${hex(randomBytes(20))} ok`);
  assertUntouched(`almost ${hex(randomBytes(32)).slice(0, 63)} long`);
});

test('extended private keys are redacted, extended public keys are kept', () => {
  const root = HDKey.fromMasterSeed(randomBytes(32));
  const xprv = root.privateExtendedKey;
  assert.match(xprv, /^xprv/);
  assert.equal(redactString(`root ${xprv} end`), `root ${REDACTED} end`);
  assertUntouched(`watch-only ${root.publicExtendedKey}`);
  const tprv = HDKey.fromMasterSeed(randomBytes(32), TPRV_VERSIONS).privateExtendedKey;
  assert.match(tprv, /^tprv/);
  assertRedacted(`testnet key: ${tprv}`, tprv);
  // Other SLIP-132 prefixes share the shape.
  for (const prefix of ['yprv', 'zprv', 'uprv', 'vprv', 'Yprv', 'Zprv']) {
    const fake = prefix + xprv.slice(4);
    assertRedacted(`k=${fake}`, fake.slice(4));
  }
});

test('nsec1 and ncryptsec1 are redacted, npub1 is kept', () => {
  const sk = randomBytes(32);
  const nsec = nip19.nsecEncode(sk);
  assert.equal(redactString(`nostr key ${nsec}!`), `nostr key ${REDACTED}!`);
  assertRedacted(`nostr:${nsec.toUpperCase()}`, nsec.toUpperCase());
  const ncryptsec = nip49.encrypt(sk, 'correct horse', 1);
  assert.equal(redactString(`backup ${ncryptsec}`), `backup ${REDACTED}`);
  assertUntouched(`author ${nip19.npubEncode(hex(randomBytes(32)))} posted`);
});

test('WIF keys (mainnet and testnet, compressed or not) are redacted', () => {
  // Vectors from the Bitcoin wiki (uncompressed 5…, compressed K…/L…).
  const vectors = [
    '5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dJ1z7V5RMkCdKuMNK',
    'KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617',
  ];
  for (const v of vectors) assert.equal(redactString(`wif: ${v}.`), `wif: ${REDACTED}.`);
  for (const testnet of [false, true]) {
    for (const compressed of [false, true]) {
      const w = wif(randomBytes(32), { testnet, compressed });
      assert.equal(redactString(`import ${w}`), `import ${REDACTED}`, w);
    }
  }
});

test('WIF detection does not eat ordinary base58 or words', () => {
  assertUntouched('pay to 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy or 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2');
  assertUntouched('Kindly note: Lorem ipsum dolor sit amet, consectetur adipiscing elit.');
  // 51 base58 characters glued inside a longer token are not a WIF.
  const w = wif(randomBytes(32), { compressed: false });
  assert.equal(w.length, 51);
  assertUntouched(`id_${w}x`);
});

test('Bearer tokens: the scheme word stays, the token goes', () => {
  const token = randomBytes(24).toString('base64url');
  assert.equal(redactString(`Authorization: Bearer ${token}`), `Authorization: Bearer ${REDACTED}`);
  assert.equal(redactString(`sent bearer ${token} upstream`), `sent bearer ${REDACTED} upstream`);
  assert.equal(
    redactString(`{"authorization": "Basic ${randomBytes(12).toString('base64')}"}`),
    `{"authorization": "Basic ${REDACTED}"}`,
  );
  assertRedacted(`authorization=${token}`, token);
});

test('Warden tokens (wdn_ + 40+ base32/base64url) are redacted anywhere', () => {
  const token = `wdn_${randomBytes(32).toString('base64url')}`;
  assert.equal(redactString(`using ${token} now`), `using ${REDACTED} now`);
  assert.equal(redactString(`x-token:${token}`), `x-token:${REDACTED}`);
  const b32 = `wdn_${randomId('x').slice(2)}${randomId('y').slice(2)}`;
  assertRedacted(`t ${b32}`, b32);
  // Ordinary ids (26 base32 characters) are kept.
  assertUntouched(`operation ${randomId('op')} started for ${randomId('wdn')}`);
});

test('base64 macaroons are redacted', () => {
  const mac = `AgEDbG5kAvgBAwoQ${randomBytes(90).toString('base64')}`;
  assertRedacted(`Grpc-Metadata-macaroon ${mac}`, mac.slice(0, 40));
});

test('NWC URIs with a secret are redacted whole', () => {
  const uri = `nostr+walletconnect://${hex(randomBytes(32))}?relay=wss%3A%2F%2Frelay.example.com&secret=${hex(randomBytes(32))}&lud16=a%40b.c`;
  assert.equal(redactString(`connect with ${uri} please`), `connect with ${REDACTED} please`);
  assert.equal(redactString(`"${uri}"`), `"${REDACTED}"`);
});

test('URL credentials, secret query parameters and JSON members are redacted', () => {
  assert.equal(
    redactString('rpc http://bitcoinrpc:hunter2@127.0.0.1:8332/wallet'),
    `rpc http://${REDACTED}@127.0.0.1:8332/wallet`,
  );
  assert.equal(redactString('postgres://warden:s3cr3t@db/warden'), `postgres://${REDACTED}@db/warden`);
  assert.equal(
    redactString('bunker://abc?relay=wss://r.example&secret=s3cr3t&x=1'),
    `bunker://abc?relay=wss://r.example&secret=${REDACTED}&x=1`,
  );
  assert.equal(
    redactString('WARDEN_PASSPHRASE=hunter2 warden start'),
    `WARDEN_PASSPHRASE=${REDACTED} warden start`,
  );
  assert.equal(
    redactString('body {"password":"hunter2","user":"bob","pin":1234,"api_key":77}'),
    `body {"password":"${REDACTED}","user":"bob","pin":1234,"api_key":"${REDACTED}"}`,
  );
  assertUntouched('see https://example.com/path?page=2&sort=asc and mail bob@example.com');
});

test('PEM private keys are redacted', () => {
  const pem = `-----BEGIN EC PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n${randomBytes(30).toString('base64')}\n-----END EC PRIVATE KEY-----`;
  assert.equal(redactString(`tls key:\n${pem}\nloaded`), `tls key:\n${REDACTED}\nloaded`);
});

// ---------------------------------------------------------------------------------------------
// BIP-39 phrases

test('generated 12- and 24-word mnemonics are redacted, even with odd spacing', () => {
  for (const strength of [128, 160, 192, 224, 256]) {
    const mnemonic = generateMnemonic(wordlist, strength);
    const words = mnemonic.split(' ');
    const variants = [
      mnemonic,
      words.join('   '),
      words.join('\n'),
      words.join(' \r\n\t '),
      `  ${words.join('  ')}\n`,
      words.map((w, i) => `${i + 1}. ${w}`).join('\n'),
      JSON.stringify(words),
      mnemonic.toUpperCase(),
      words.map((w) => w.slice(0, 4)).join(' '),
    ];
    for (const v of variants) {
      // Only non-letters around the phrase: every letter left in the output must be the marker's.
      const out = redactString(`>>> ${v} <<<`);
      assert.deepEqual(out.match(/[A-Za-z]+/g), ['REDACTED'], out);
      assert.ok(out.startsWith('>>> ') && out.endsWith(' <<<'), out);
    }
  }
});

test('a mnemonic with one mistyped word is still redacted', () => {
  const words = generateMnemonic(wordlist).split(' ');
  for (const at of [0, 5, 11]) {
    const typo = [...words];
    typo[at] = 'xqzv';
    const out = redactString(`restore ${typo.join(' ')}`);
    for (const w of typo) assert.ok(!out.split(/\W+/).includes(w), `${w} survived in ${out}`);
  }
});

test('ordinary text with a few list words is kept', () => {
  assertUntouched('I will make time to write about this one next week, if you like.');
  assertUntouched('The vault is sealed; unseal it with your passphrase before you try again.');
  assertUntouched('abandon ability able about above absent absorb abstract absurd abuse access');
  assert.equal(redactMnemonics('short'), 'short');
});

// ---------------------------------------------------------------------------------------------
// Ordinary text

test('ordinary text is untouched: sentences, npub, bc1, EVM address, short ids', () => {
  const samples = [
    'Signed the PSBT for 21000 sat with fee rate 3 sat/vB; policy allowed it.',
    `npub ${nip19.npubEncode(hex(randomBytes(32)))}`,
    'deposit to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq please',
    'taproot bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297',
    `approve 0x${hex(randomBytes(20))} for 1000000 wei`,
    'op_01hv6fx2k7d3xq9n8y2m4t5w6z done in 12 ms',
    'lnbc1u1pjxyzpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypq',
    'A normal base64 blob: SGVsbG8sIFdvcmxkIQ== is fine.',
    'Bearer',
    '',
  ];
  for (const s of samples) assertUntouched(s);
});

test('generic base64 of a key is not redacted in text, but is under a secret field name', () => {
  const b64 = randomBytes(32).toString('base64');
  assertUntouched(`blob ${b64}`);
  assert.deepEqual(redactValue({ secret: b64, blob: b64 }), { secret: REDACTED, blob: b64 });
});

// ---------------------------------------------------------------------------------------------
// Properties

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const noise = fc.string({ maxLength: 40 });

test('property: random keys as hex, nsec, WIF and xprv never survive, whatever surrounds them', () => {
  fc.assert(
    fc.property(key32, noise, noise, fc.boolean(), (key, before, after, upper) => {
      const h = upper ? hex(key).toUpperCase() : hex(key);
      const nsec = nip19.nsecEncode(key);
      const w = wif(key, { compressed: upper });
      for (const secret of [h, nsec, w]) {
        const out = redactString(`${before} ${secret} ${after}`);
        assert.ok(!out.includes(secret), out);
      }
    }),
    fcParams(),
  );
  fc.assert(
    fc.property(key32, noise, (seed, before) => {
      const xprv = HDKey.fromMasterSeed(seed).privateExtendedKey;
      assert.ok(!redactString(`${before}\n${xprv}`).includes(xprv));
    }),
    { ...fcParams(), numRuns: 50 },
  );
});

test('property: redactString is idempotent', () => {
  const unit = fc.constantFrom(
    'a',
    'f',
    '0',
    ' ',
    '=',
    '"',
    ':',
    '\n',
    'abandon ',
    'zoo ',
    'Bearer ',
    'secret=',
    hex(randomBytes(32)),
    nip19.nsecEncode(randomBytes(32)),
    `wdn_${randomBytes(32).toString('base64url')}`,
  );
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 60 }), (s) => {
      const once = redactString(s);
      assert.equal(redactString(once), once);
    }),
    fcParams(),
  );
});

test('property: linear-time patterns survive long adversarial input (no timing assertion)', () => {
  const unit = fc.constantFrom(
    'a',
    'F',
    '0',
    '9',
    'q',
    'K',
    '5',
    '_',
    '-',
    '.',
    ' ',
    '\n',
    '=',
    '"',
    ':',
    '@',
    '/',
    '\\',
    '://',
    'wdn_',
    'nsec1',
    'ncryptsec1',
    'ms1',
    'xprv',
    'AgE',
    'Bearer ',
    'authorization: ',
    'nostr+walletconnect:',
    '-----BEGIN PRIVATE KEY-----',
    'abandon ',
    'ability ',
    'zoo ',
  );
  fc.assert(
    fc.property(fc.string({ unit, minLength: 1000, maxLength: 5000 }), (s) => {
      assert.equal(typeof redactString(s), 'string');
    }),
    { ...fcParams(), numRuns: 50 },
  );
  const n = 200_000;
  const adversarial = [
    'a'.repeat(n),
    `${'0'.repeat(63)}g`.repeat(n / 64),
    'wdn_'.repeat(n / 4),
    'nsec1'.repeat(n / 5),
    'xprv'.repeat(n / 4),
    '5'.repeat(n),
    'K'.repeat(n),
    'a.'.repeat(n / 2),
    `a://${'b'.repeat(n)}`,
    'a://'.repeat(n / 4),
    '"a":'.repeat(n / 4),
    `"password":"${'\\'.repeat(n)}`,
    'x='.repeat(n / 2),
    'Bearer '.repeat(n / 7),
    'authorization: '.repeat(n / 15),
    '-----BEGIN PRIVATE KEY-----'.repeat(n / 27),
    'abandon '.repeat(n / 8),
    'abandon xx '.repeat(n / 11),
    'nostr+walletconnect:'.repeat(n / 20),
  ];
  for (const s of adversarial) assert.equal(typeof redactString(s), 'string');
});

// ---------------------------------------------------------------------------------------------
// redactValue

test('redactValue redacts secret-looking field names at any depth', () => {
  const key = hex(randomBytes(32));
  const input = {
    op: 'op_123',
    privateKey: 'anything at all',
    nested: {
      mnemonic: 'not even words',
      seedPhrase: ['a', 'b'],
      walletPassphrase: 42,
      list: [{ nsec: 'x' }, { accessToken: 'y', note: `key ${key}` }],
      headers: { Authorization: 'Basic abc', Cookie: 'sid=1', accept: 'json' },
    },
    preimage: 7n,
    macaroon: { any: 'thing' },
    rune: 'r',
    xprv: 'k',
    hasPassword: false,
    secretRef: null,
  };
  assert.deepEqual(redactValue(input), {
    op: 'op_123',
    privateKey: REDACTED,
    nested: {
      mnemonic: REDACTED,
      seedPhrase: REDACTED,
      walletPassphrase: REDACTED,
      list: [{ nsec: REDACTED }, { accessToken: REDACTED, note: `key ${REDACTED}` }],
      headers: { Authorization: REDACTED, Cookie: REDACTED, accept: 'json' },
    },
    preimage: REDACTED,
    macaroon: REDACTED,
    rune: REDACTED,
    xprv: REDACTED,
    hasPassword: false,
    secretRef: null,
  });
  // The input is not modified.
  assert.equal(input.privateKey, 'anything at all');
});

test('redactValue never returns bytes', () => {
  const key = randomBytes(32);
  assert.deepEqual(
    redactValue({
      a: new Uint8Array(key),
      b: key,
      c: key.buffer.slice(0, 16),
      d: new DataView(new ArrayBuffer(8)),
      e: [new Uint16Array(4)],
      f: key.toJSON(),
    }),
    {
      a: '[REDACTED BYTES 32]',
      b: '[REDACTED BYTES 32]',
      c: '[REDACTED BYTES 16]',
      d: '[REDACTED BYTES 8]',
      e: ['[REDACTED BYTES 8]'],
      f: '[REDACTED BYTES 32]',
    },
  );
  assert.equal(redactValue(key), '[REDACTED BYTES 32]');
});

test('redactValue turns errors into {name, code?, message} with the message redacted', () => {
  const key = hex(randomBytes(32));
  const plain = new TypeError(`cannot parse ${key}`);
  assert.deepEqual(redactValue(plain), { name: 'TypeError', message: `cannot parse ${REDACTED}` });
  const werr = new WardenError('INVALID_NSEC', `bad nsec ${nip19.nsecEncode(randomBytes(32))}`, { a: 1 });
  assert.deepEqual(redactValue({ err: werr }), {
    err: { name: 'WardenError', code: 'INVALID_NSEC', message: `bad nsec ${REDACTED}` },
  });
  const withStack = redactValue(plain, 0, { includeStack: true }) as { stack?: string };
  assert.ok(withStack.stack?.includes('TypeError'));
  assert.ok(!withStack.stack?.includes(key));
});

test('redactValue cuts cycles and depth, keeps shared references', () => {
  const a: Record<string, unknown> = { name: 'a' };
  a.self = a;
  assert.deepEqual(redactValue(a), { name: 'a', self: CUT });
  const shared = { x: 1 };
  assert.deepEqual(redactValue({ p: shared, q: shared }), { p: { x: 1 }, q: { x: 1 } });
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 12; i++) deep = { d: deep };
  let node = redactValue(deep) as Record<string, unknown>;
  let levels = 0;
  while (typeof node.d === 'object' && node.d !== null) {
    node = node.d as Record<string, unknown>;
    levels++;
  }
  assert.equal(node.d, CUT);
  assert.equal(levels, 8);
});

test('redactValue: bigint, Map, Set, Date, functions, keys holding secrets, __proto__', () => {
  const key = hex(randomBytes(32));
  const out = redactValue({
    amount: 2n ** 64n,
    m: new Map<string, unknown>([
      ['password', 'x'],
      ['note', `k ${key}`],
    ]),
    s: new Set([key]),
    at: new Date(0),
    fn: () => 1,
    [key]: 'value under a secret key',
  }) as Record<string, unknown>;
  assert.equal(out.amount, '18446744073709551616');
  assert.deepEqual(out.m, { password: REDACTED, note: `k ${REDACTED}` });
  assert.deepEqual(out.s, [REDACTED]);
  assert.equal(out.at, '1970-01-01T00:00:00.000Z');
  assert.equal(out.fn, undefined);
  assert.ok(!JSON.stringify(out).includes(key));
  const proto = redactValue(JSON.parse('{"__proto__": {"polluted": 1}}')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('redactValue bounds the work on huge graphs and summarizes HTTP messages', () => {
  const wide = Array.from({ length: MAX_NODES + 50 }, (_, i) => ({ i }));
  const out = redactValue(wide) as unknown[];
  assert.equal(out.length, wide.length);
  assert.deepEqual(out[0], { i: 0 });
  assert.equal(out.at(-1), CUT);

  const socket = { server: { connections: new Array(100).fill({ huge: true }) } };
  const req = {
    method: 'POST',
    url: '/v1/sign',
    headers: { authorization: 'Bearer abc', host: 'x' },
    socket,
  };
  assert.deepEqual(redactValue({ req }), {
    req: { method: 'POST', url: '/v1/sign', headers: { authorization: REDACTED, host: 'x' } },
  });
  const res = {
    statusCode: 200,
    setHeader() {},
    getHeaders: () => ({ 'set-cookie': 'sid=1', 'content-type': 'json' }),
  };
  assert.deepEqual(redactValue(res), {
    statusCode: 200,
    headers: { 'set-cookie': REDACTED, 'content-type': 'json' },
  });
});
