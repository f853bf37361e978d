import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesToHex } from 'viem';
import { createSiweMessage } from 'viem/siwe';
import { z } from 'zod';
import { type ErrorCode, WardenError } from '../../../../src/core/errors.ts';
import {
  MAX_MESSAGE_BYTES,
  parseSignMessageRequest,
  type SignMessageRequest,
} from '../../../../src/protocols/evm/sign-message/request.ts';
import { requestSchema, resultSchema } from '../../../../src/protocols/evm/sign-message/schema.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const parse = (body: unknown, now: Date | null = NOW) => parseSignMessageRequest(body, now);

/** The code and field of the refusal, or 'accepted'. */
function refusal(body: unknown, now: Date | null = NOW): string {
  try {
    parse(body, now);
    return 'accepted';
  } catch (err) {
    if (!(err instanceof WardenError)) throw new Error(`threw a non-WardenError: ${String(err)}`);
    return `${err.code} ${String(err.details.field)}`;
  }
}

function siwe(overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {}): string {
  return createSiweMessage({
    address: ADDRESS,
    chainId: 1,
    domain: 'app.example.com',
    nonce: 'n0nceN0nce',
    uri: 'https://app.example.com/login',
    version: '1',
    statement: 'Sign in to App',
    issuedAt: new Date('2026-03-01T11:59:00Z'),
    expirationTime: new Date('2026-03-01T12:10:00Z'),
    ...overrides,
  });
}

const hexOf = (text: string) => bytesToHex(new TextEncoder().encode(text));

test('a text message parses to its UTF-8 bytes', () => {
  assert.deepEqual(parse({ message: 'hello, wörld' }), {
    encoding: 'text',
    messageHex: hexOf('hello, wörld'),
    text: 'hello, wörld',
    messageType: 'text',
    siwe: null,
    chainId: null,
    idempotencyKey: null,
  } satisfies SignMessageRequest);
  const full = parse({ message: 'hi', chainId: 8453, idempotencyKey: 'login-1:a.b_c' });
  assert.equal(full.chainId, 8453);
  assert.equal(full.idempotencyKey, 'login-1:a.b_c');
  const nulls = parse({ message: 'hi', chainId: null, idempotencyKey: null });
  assert.equal(nulls.chainId, null);
  assert.equal(nulls.idempotencyKey, null);
});

test('raw bytes parse to lower-case hex, with their text when they are UTF-8', () => {
  assert.deepEqual(parse({ messageHex: '0xDEADbeef' }), {
    encoding: 'hex',
    messageHex: '0xdeadbeef',
    text: null,
    messageType: 'bytes',
    siwe: null,
    chainId: null,
    idempotencyKey: null,
  } satisfies SignMessageRequest);
  const utf8 = parse({ messageHex: hexOf('plain words') });
  assert.equal(utf8.text, 'plain words');
  assert.equal(utf8.messageType, 'bytes');
});

test('message types: 32 bytes are hash32 however they are sent; SIWE is siwe', () => {
  const hash = `0x${'ab'.repeat(32)}`;
  assert.equal(parse({ messageHex: hash }).messageType, 'hash32');
  assert.equal(parse({ messageHex: `0x${'ab'.repeat(31)}` }).messageType, 'bytes');
  assert.equal(parse({ messageHex: `0x${'ab'.repeat(33)}` }).messageType, 'bytes');
  // A 32-byte text signs exactly like those 32 bytes sent as hex (a hash ground to be valid UTF-8).
  assert.equal(parse({ message: 'x'.repeat(32) }).messageType, 'hash32');
  assert.equal(parse({ message: 'é'.repeat(16) }).messageType, 'hash32');
  assert.equal(parse({ message: 'x'.repeat(31) }).messageType, 'text');
  // A 0x string sent as text is text: its characters are signed, not the bytes they spell.
  assert.equal(parse({ message: hash }).messageType, 'text');
  assert.equal(parse({ message: siwe() }).messageType, 'siwe');
  assert.equal(parse({ messageHex: hexOf(siwe()) }).messageType, 'siwe');
});

test('the body shape: a plain object with exactly one of message and messageHex, no unknown field', () => {
  const cases: [unknown, string][] = [
    [null, 'INVALID_REQUEST undefined'],
    [[], 'INVALID_REQUEST undefined'],
    ['hello', 'INVALID_REQUEST undefined'],
    [{}, 'INVALID_REQUEST message'],
    [{ chainId: 1 }, 'INVALID_REQUEST message'],
    [{ message: 'a', messageHex: '0x61' }, 'INVALID_REQUEST messageHex'],
    [{ message: 'a', messageHex: null }, 'INVALID_REQUEST messageHex'],
    [{ message: 'a', extra: 1 }, 'INVALID_REQUEST extra'],
    [{ message: 'a', MESSAGE: 'b' }, 'INVALID_REQUEST MESSAGE'],
    [JSON.parse('{"message":"a","__proto__":{"x":1}}'), 'INVALID_REQUEST __proto__'],
    [Object.assign(Object.create({ inherited: 1 }), { message: 'a' }), 'INVALID_REQUEST undefined'],
    [
      new (class Body {
        message = 'a';
      })(),
      'INVALID_REQUEST undefined',
    ],
    [{ message: 'a', [Symbol('s')]: 1 }, 'INVALID_REQUEST Symbol(s)'],
  ];
  for (const [body, expected] of cases)
    assert.equal(refusal(body), expected, JSON.stringify(body) ?? String(body));
  const nullPrototype = Object.assign(Object.create(null), { message: 'a' });
  assert.equal(refusal(nullPrototype), 'accepted');
});

test('every field is checked and named when refused', () => {
  const cases: [unknown, string][] = [
    [{ message: null }, 'INVALID_REQUEST message'],
    [{ message: 42 }, 'INVALID_REQUEST message'],
    [{ message: ['a'] }, 'INVALID_REQUEST message'],
    [{ message: '' }, 'INVALID_REQUEST message'],
    [{ message: 'a\ud800b' }, 'INVALID_REQUEST message'],
    [{ message: 'a\udc00' }, 'INVALID_REQUEST message'],
    [{ messageHex: null }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: 1234 }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: '0x' }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: 'deadbeef' }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: '0Xdeadbeef' }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: '0xabc' }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: '0xzz' }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: ' 0xab' }, 'INVALID_REQUEST messageHex'],
    [{ messageHex: '0xab\n' }, 'INVALID_REQUEST messageHex'],
    [{ message: 'a', chainId: 0 }, 'INVALID_REQUEST chainId'],
    [{ message: 'a', chainId: -1 }, 'INVALID_REQUEST chainId'],
    [{ message: 'a', chainId: 1.5 }, 'INVALID_REQUEST chainId'],
    [{ message: 'a', chainId: '1' }, 'INVALID_REQUEST chainId'],
    [{ message: 'a', chainId: 2 ** 53 }, 'INVALID_REQUEST chainId'],
    [{ message: 'a', chainId: Number.NaN }, 'INVALID_REQUEST chainId'],
    [{ message: 'a', idempotencyKey: '' }, 'INVALID_REQUEST idempotencyKey'],
    [{ message: 'a', idempotencyKey: 'a'.repeat(129) }, 'INVALID_REQUEST idempotencyKey'],
    [{ message: 'a', idempotencyKey: 'a b' }, 'INVALID_REQUEST idempotencyKey'],
    [{ message: 'a', idempotencyKey: 7 }, 'INVALID_REQUEST idempotencyKey'],
  ];
  for (const [body, expected] of cases) assert.equal(refusal(body), expected, JSON.stringify(body));
  assert.equal(
    refusal({ message: 'a', idempotencyKey: 'k' }),
    'accepted',
    'one character is a key (as for evm.send)',
  );
  assert.equal(refusal({ message: 'a', idempotencyKey: 'a'.repeat(128) }), 'accepted');
});

test(`the size cap: ${MAX_MESSAGE_BYTES} bytes, counted in UTF-8 for text`, () => {
  assert.equal(refusal({ message: 'a'.repeat(MAX_MESSAGE_BYTES) }), 'accepted');
  assert.equal(refusal({ message: 'a'.repeat(MAX_MESSAGE_BYTES + 1) }), 'INVALID_REQUEST message');
  assert.equal(refusal({ message: 'é'.repeat(MAX_MESSAGE_BYTES / 2) }), 'accepted');
  assert.equal(refusal({ message: `${'é'.repeat(MAX_MESSAGE_BYTES / 2)}a` }), 'INVALID_REQUEST message');
  assert.equal(refusal({ message: '😀'.repeat(MAX_MESSAGE_BYTES / 4 + 1) }), 'INVALID_REQUEST message');
  assert.equal(refusal({ messageHex: `0x${'00'.repeat(MAX_MESSAGE_BYTES)}` }), 'accepted');
  assert.equal(
    refusal({ messageHex: `0x${'00'.repeat(MAX_MESSAGE_BYTES + 1)}` }),
    'INVALID_REQUEST messageHex',
  );
  assert.equal(refusal({ message: 'a'.repeat(10_000_000) }), 'INVALID_REQUEST message');
});

test('SIWE: a message that mentions sign-in but does not conform is refused, as text or as bytes', () => {
  const broken = siwe().replace('Version: 1', 'Version: 2');
  assert.equal(refusal({ message: broken }), 'INVALID_REQUEST message');
  assert.equal(refusal({ messageHex: hexOf(broken) }), 'INVALID_REQUEST messageHex');
  assert.equal(refusal({ message: `Please sign:\n${siwe()}` }), 'INVALID_REQUEST message');
  assert.equal(refusal({ message: `${siwe()}\n` }), 'INVALID_REQUEST message');
  assert.equal(
    refusal({ message: 'evil.example WANTS you to sign in with your ethereum ACCOUNT' }),
    'INVALID_REQUEST message',
  );
  // Bytes that mention it but are not UTF-8 cannot be a SIWE message either.
  const notUtf8 = `${hexOf('x wants you to sign in with your Ethereum account:')}ff`;
  assert.equal(refusal({ messageHex: notUtf8 }), 'INVALID_REQUEST messageHex');
});

test('SIWE: expired at parse time is refused; reading a stored request back does not re-check expiry', () => {
  const message = siwe({ expirationTime: new Date('2026-03-01T12:00:00Z') });
  assert.equal(refusal({ message }, new Date('2026-03-01T11:59:59.999Z')), 'accepted');
  assert.equal(refusal({ message }, NOW), 'INVALID_REQUEST message', 'expired at the very instant');
  assert.equal(refusal({ messageHex: hexOf(message) }, NOW), 'INVALID_REQUEST messageHex');
  assert.equal(refusal({ message }, null), 'accepted');
  const offset = siwe().replace(/Expiration Time: .*/, 'Expiration Time: 2026-03-01T13:00:00+01:00');
  assert.equal(refusal({ message: offset }, NOW), 'INVALID_REQUEST message', 'the offset is applied');
  // Not yet valid is not refused: it is shown to the approver.
  const later = siwe({ notBefore: new Date('2026-03-01T12:05:00Z') });
  assert.equal(parse({ message: later }).siwe?.notBefore, '2026-03-01T12:05:00.000Z');
});

test('SIWE: a chainId in the body must be the chain the message names', () => {
  assert.equal(refusal({ message: siwe({ chainId: 10 }), chainId: 10 }), 'accepted');
  assert.equal(refusal({ message: siwe({ chainId: 10 }) }), 'accepted');
  assert.equal(refusal({ message: siwe({ chainId: 10 }), chainId: 1 }), 'INVALID_REQUEST chainId');
  assert.equal(refusal({ messageHex: hexOf(siwe({ chainId: 10 })), chainId: 1 }), 'INVALID_REQUEST chainId');
});

// ---------------------------------------------------------------------------------------------
// The JSON Schemas say what the parser accepts
// ---------------------------------------------------------------------------------------------

const schema = z.fromJSONSchema(requestSchema as never);
const schemaAccepts = (body: unknown) => schema.safeParse(body).success;

const CHAIN = fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined });
const KEY = fc.option(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), { nil: undefined });
const TEXT = fc
  .string({ minLength: 1, maxLength: 200, unit: 'grapheme' })
  .filter((s) => !/wants|ethereum/i.test(s));
const HEX = fc
  .uint8Array({ minLength: 1, maxLength: 200 })
  .map((b) => bytesToHex(b))
  .filter((h) => !/77616e7473/.test(h));
const withOptions = (
  body: Record<string, unknown>,
  chainId: number | undefined,
  key: string | undefined,
) => ({
  ...body,
  ...(chainId === undefined ? {} : { chainId }),
  ...(key === undefined ? {} : { idempotencyKey: key }),
});
const VALID_BODY = fc.oneof(
  fc.tuple(TEXT, CHAIN, KEY).map(([message, c, k]) => withOptions({ message }, c, k)),
  fc
    .tuple(HEX, fc.boolean(), CHAIN, KEY)
    .map(([hex, upper, c, k]) =>
      withOptions({ messageHex: upper ? `0x${hex.slice(2).toUpperCase()}` : hex }, c, k),
    ),
);

test('schema: every generated valid body is accepted by both the parser and the request schema', () => {
  fc.assert(
    fc.property(VALID_BODY, (body) => {
      assert.equal(refusal(body), 'accepted', JSON.stringify(body));
      assert.equal(schemaAccepts(body), true, JSON.stringify(body));
    }),
    { numRuns: 500 },
  );
  assert.equal(schemaAccepts({ message: siwe(), chainId: 1, idempotencyKey: null }), true);
});

test('schema: what the parser refuses for simple reasons, the request schema refuses too', () => {
  const refusedByBoth: unknown[] = [
    {},
    { message: '' },
    { message: 1 },
    { message: null },
    { messageHex: '0x' },
    { messageHex: '0xabc' },
    { messageHex: 'abcd' },
    { messageHex: '0Xab' },
    { message: 'a', messageHex: '0x61' },
    { message: 'a', extra: true },
    { message: 'a', chainId: 0 },
    { message: 'a', chainId: 1.5 },
    { message: 'a', chainId: '1' },
    { message: 'a', chainId: 2 ** 53 },
    { message: 'a', idempotencyKey: '' },
    { message: 'a', idempotencyKey: 'a b' },
    { message: 'a', idempotencyKey: 'k'.repeat(129) },
    { message: 'a'.repeat(MAX_MESSAGE_BYTES + 1) },
    { messageHex: `0x${'00'.repeat(MAX_MESSAGE_BYTES + 1)}` },
    [],
    null,
    'message',
  ];
  for (const body of refusedByBoth) {
    const shown = JSON.stringify(body)?.slice(0, 80);
    assert.notEqual(refusal(body), 'accepted', `parser: ${shown}`);
    assert.equal(schemaAccepts(body), false, `schema: ${shown}`);
  }
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      (body) => {
        // Whatever the schema refuses, the parser refuses (the parser may refuse more).
        if (!schemaAccepts(body)) assert.notEqual(refusal(body), 'accepted', JSON.stringify(body));
      },
    ),
    { numRuns: 500 },
  );
});

test('schema: the result schema describes what execute returns', () => {
  const result = z.fromJSONSchema(resultSchema as never);
  const good = {
    signature: `0x${'1'.repeat(128)}1b`,
    address: `0x${'a'.repeat(40)}`,
    messageHash: `0x${'0'.repeat(64)}`,
  };
  assert.equal(result.safeParse(good).success, true);
  assert.equal(result.safeParse({ ...good, extra: 1 }).success, false);
  assert.equal(result.safeParse({ ...good, signature: '0x1b' }).success, false);
  assert.equal(requestSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

// ---------------------------------------------------------------------------------------------
// Fuzz: hostile bodies never throw anything but a WardenError
// ---------------------------------------------------------------------------------------------

const ERROR_CODES_SEEN = new Set<ErrorCode>();

function onlyWardenErrors(body: unknown, now: Date | null = NOW): void {
  try {
    parse(body, now);
  } catch (err) {
    if (!(err instanceof WardenError)) throw new Error(`threw a non-WardenError: ${String(err)}`);
    ERROR_CODES_SEEN.add(err.code);
  }
}

test('fuzz: arbitrary values, objects with our field names and mutated SIWE texts only ever raise WardenError', () => {
  fc.assert(
    fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (v) => onlyWardenErrors(v)),
    {
      numRuns: 1000,
    },
  );
  const fieldValue = fc.oneof(
    fc.anything(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'binary' }).map((s) => `0x${s}`),
    fc.integer(),
    fc.double(),
    fc.constant(null),
  );
  fc.assert(
    fc.property(
      fc.record(
        { message: fieldValue, messageHex: fieldValue, chainId: fieldValue, idempotencyKey: fieldValue },
        { requiredKeys: [] },
      ),
      (body) => onlyWardenErrors(body),
    ),
    { numRuns: 1000 },
  );
  const base = siwe();
  fc.assert(
    fc.property(
      fc.nat({ max: base.length }),
      fc.string({ maxLength: 4, unit: 'binary' }),
      fc.boolean(),
      (at, text, asHex) => {
        const mutated = base.slice(0, at) + text + base.slice(at);
        onlyWardenErrors(asHex ? { messageHex: hexOf(mutated) } : { message: mutated });
      },
    ),
    { numRuns: 1000 },
  );
  assert.deepEqual([...ERROR_CODES_SEEN], ['INVALID_REQUEST']);
});
