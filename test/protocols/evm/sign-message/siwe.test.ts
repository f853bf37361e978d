import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { createSiweMessage, parseSiweMessage as viemParse } from 'viem/siwe';
import { isWardenError, WardenError } from '../../../../src/core/errors.ts';
import { isPlainDomain, isUri, parseDateTime } from '../../../../src/protocols/evm/sign-message/grammar.ts';
import {
  mentionsSiwe,
  parseSiwe,
  type SiweMessage,
} from '../../../../src/protocols/evm/sign-message/siwe.ts';
import {
  EXAMPLES_FILE,
  FIXTURES,
  SPEC_ADDRESS,
  SPEC_EXAMPLE,
  spec,
  specExampleFields,
} from './spec-examples.ts';

/** The siweField of the refusal, or 'accepted'. */
function refusal(text: string): string {
  try {
    parseSiwe(text, 'message');
    return 'accepted';
  } catch (err) {
    if (!(err instanceof WardenError)) throw new Error(`threw a non-WardenError: ${String(err)}`);
    assert.equal(err.code, 'INVALID_REQUEST');
    assert.equal(err.details.field, 'message');
    return String(err.details.siweField);
  }
}

test('the fixture file matches the sha256 recorded in PROVENANCE.txt', () => {
  const provenance = readFileSync(new URL('PROVENANCE.txt', FIXTURES), 'utf8');
  const recorded = /fixture sha256\s*:\s*([0-9a-f]{64})/.exec(provenance)?.[1];
  assert.ok(recorded, 'PROVENANCE.txt records the sha256 of the fixture');
  assert.equal(createHash('sha256').update(readFileSync(EXAMPLES_FILE)).digest('hex'), recorded);
  assert.equal(spec.examples.length, 3);
});

test('the three EIP-4361 spec examples parse, with every field as the spec writes it', () => {
  const [implicit, port, explicit] = spec.examples.map((e) => parseSiwe(e.message, 'message'));
  assert.deepEqual(implicit, specExampleFields(null, 'example.com'));
  assert.deepEqual(port, specExampleFields(null, 'example.com:3388'));
  assert.deepEqual(explicit, specExampleFields('https', 'example.com'));
});

test('messages viem creates parse back to the fields they were made from', () => {
  const address = '0xA0Cf798816D4b9b9866b5330EEa46a18382f251e';
  const full = createSiweMessage({
    address,
    chainId: 10,
    domain: 'login.example.org:8443',
    nonce: 'a1B2c3D4e5',
    uri: 'https://login.example.org:8443/siwe?x=1#top',
    version: '1',
    scheme: 'https',
    statement: "Sign in to Example (it's free) & agree: terms/v2?",
    issuedAt: new Date('2026-01-02T03:04:05.678Z'),
    expirationTime: new Date('2026-01-02T04:04:05.678Z'),
    notBefore: new Date('2026-01-02T03:00:00.000Z'),
    requestId: 'req-42:a@b',
    resources: ['https://example.org/a', 'urn:example:b', 'ipfs://bafy/'],
  });
  assert.deepEqual(parseSiwe(full, 'message'), {
    scheme: 'https',
    domain: 'login.example.org:8443',
    address,
    statement: "Sign in to Example (it's free) & agree: terms/v2?",
    uri: 'https://login.example.org:8443/siwe?x=1#top',
    version: '1',
    chainId: 10,
    nonce: 'a1B2c3D4e5',
    issuedAt: '2026-01-02T03:04:05.678Z',
    expirationTime: '2026-01-02T04:04:05.678Z',
    notBefore: '2026-01-02T03:00:00.000Z',
    requestId: 'req-42:a@b',
    resources: ['https://example.org/a', 'urn:example:b', 'ipfs://bafy/'],
  });
  const minimal = createSiweMessage({
    address,
    chainId: 1,
    domain: 'localhost:3000',
    nonce: '12345678',
    uri: 'http://localhost:3000',
    version: '1',
    issuedAt: new Date('2026-01-02T03:04:05.000Z'),
  });
  assert.match(minimal, /\n\n\nURI: /, 'without a statement the address is followed by two empty lines');
  const parsed = parseSiwe(minimal, 'message');
  assert.equal(parsed.statement, null);
  assert.equal(parsed.scheme, null);
  assert.deepEqual(parsed.resources, []);
});

const LABEL = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const DOMAIN = fc
  .tuple(fc.array(LABEL, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'org', 'io'))
  .map(([labels, tld]) => [...labels, tld].join('.'));
const URI = fc
  .tuple(
    fc.constantFrom('https', 'http', 'ipfs'),
    DOMAIN,
    fc.stringMatching(/^(?:\/[a-zA-Z0-9._~-]{0,8}){0,3}$/),
  )
  .map(([scheme, host, path]) => `${scheme}://${host}${path}`);
const DATE = fc.date({
  min: new Date('1970-01-01T00:00:00Z'),
  max: new Date('9999-12-31T23:59:59Z'),
  noInvalidDate: true,
});

test('property: every message viem creates from valid fields parses to the same fields', () => {
  fc.assert(
    fc.property(
      fc.record({
        domain: DOMAIN,
        chainId: fc.integer({ min: 1, max: 2 ** 40 }),
        nonce: fc.stringMatching(/^[A-Za-z0-9]{8,20}$/),
        uri: URI,
        statement: fc.option(fc.stringMatching(/^[A-Za-z0-9 .,:;!?'()/@#&=+$*~_-]{1,60}$/), {
          nil: undefined,
        }),
        issuedAt: DATE,
        expirationTime: fc.option(DATE, { nil: undefined }),
        resources: fc.option(fc.array(URI, { maxLength: 4 }), { nil: undefined }),
        scheme: fc.option(fc.constantFrom('https', 'http'), { nil: undefined }),
      }),
      (fields) => {
        const message = createSiweMessage({
          ...fields,
          address: '0xA0Cf798816D4b9b9866b5330EEa46a18382f251e',
          version: '1',
        });
        const parsed = parseSiwe(message, 'message');
        assert.equal(parsed.domain, fields.domain);
        assert.equal(parsed.chainId, fields.chainId);
        assert.equal(parsed.nonce, fields.nonce);
        assert.equal(parsed.uri, fields.uri);
        assert.equal(parsed.statement, fields.statement ?? null);
        assert.equal(parsed.issuedAt, fields.issuedAt.toISOString());
        assert.equal(parsed.expirationTime, fields.expirationTime?.toISOString() ?? null);
        assert.deepEqual(parsed.resources, fields.resources ?? []);
        assert.equal(parsed.scheme, fields.scheme ?? null);
      },
    ),
    { numRuns: 300 },
  );
});

/** The spec example with one line replaced (1-based), or lines inserted after it. */
function withLine(n: number, replacement: string | null): string {
  const lines = SPEC_EXAMPLE.split('\n');
  if (replacement === null) lines.splice(n - 1, 1);
  else lines[n - 1] = replacement;
  return lines.join('\n');
}

test('a message that does not conform in full is refused, naming the part that is wrong', () => {
  const cases: [string, string, string][] = [
    ['a trailing line break', `${SPEC_EXAMPLE}\n`, 'message'],
    ['CRLF line ends', SPEC_EXAMPLE.replaceAll('\n', '\r\n'), 'header'],
    ['text before the header', `Hello!\n${SPEC_EXAMPLE}`, 'header'],
    ['a space before the header', ` ${SPEC_EXAMPLE}`, 'domain'],
    ['a BOM before the header', `\ufeff${SPEC_EXAMPLE}`, 'domain'],
    ['a lower-case header phrase', SPEC_EXAMPLE.replace('Ethereum account', 'ethereum account'), 'header'],
    [
      'a domain with userinfo',
      SPEC_EXAMPLE.replace('example.com wants', 'example.com@evil.com wants'),
      'domain',
    ],
    ['a percent-encoded domain', SPEC_EXAMPLE.replace('example.com wants', 'ex%61mple.com wants'), 'domain'],
    ['an IPv6 domain', SPEC_EXAMPLE.replace('example.com wants', '[::1]:8080 wants'), 'domain'],
    ['an empty domain', SPEC_EXAMPLE.replace('example.com wants', ' wants'), 'domain'],
    [
      'an underscore in the domain',
      SPEC_EXAMPLE.replace('example.com wants', 'ex_ample.com wants'),
      'domain',
    ],
    ['a port above 65535', SPEC_EXAMPLE.replace('example.com wants', 'example.com:65536 wants'), 'domain'],
    [
      'a zero-width space in the domain',
      SPEC_EXAMPLE.replace('example.com wants', 'exam\u200bple.com wants'),
      'domain',
    ],
    ['a bad scheme', SPEC_EXAMPLE.replace('example.com wants', '1https://example.com wants'), 'scheme'],
    [
      'a wrong EIP-55 checksum',
      SPEC_EXAMPLE.replace(SPEC_ADDRESS, SPEC_ADDRESS.replace('C02aaA', 'C02AaA')),
      'address',
    ],
    ['a short address', SPEC_EXAMPLE.replace(SPEC_ADDRESS, SPEC_ADDRESS.slice(0, 41)), 'address'],
    ['no empty line after the address', withLine(3, null), 'address'],
    [
      'one empty line where a missing statement needs two',
      withLine(4, null).replace('\n\nURI', '\nURI'),
      'statement',
    ],
    ['an empty statement line', withLine(4, ''), 'uri'],
    ['a statement with a double quote', withLine(4, 'I accept "the" terms'), 'statement'],
    ['a statement with non-ASCII text', withLine(4, 'I accept the terms — all of them'), 'statement'],
    ['a statement with a right-to-left override', withLine(4, 'I accept \u202e the terms'), 'statement'],
    ['no empty line after the statement', withLine(5, null), 'statement'],
    ['a URI with a space', withLine(6, 'URI: https://example.com/log in'), 'uri'],
    ['a relative URI', withLine(6, 'URI: /login'), 'uri'],
    ['a missing URI line', withLine(6, null), 'uri'],
    ['version 2', withLine(7, 'Version: 2'), 'version'],
    ['chain id with a leading zero', withLine(8, 'Chain ID: 01'), 'chain-id'],
    ['chain id 0', withLine(8, 'Chain ID: 0'), 'chain-id'],
    ['chain id above 2^53', withLine(8, 'Chain ID: 9007199254740993'), 'chain-id'],
    ['a 7-character nonce', withLine(9, 'Nonce: 3289175'), 'nonce'],
    ['a nonce with a dash', withLine(9, 'Nonce: 3289-1756'), 'nonce'],
    ['an issued-at without offset', withLine(10, 'Issued At: 2021-09-30T16:25:24'), 'issued-at'],
    ['an issued-at on February 29 of 2021', withLine(10, 'Issued At: 2021-02-29T16:25:24Z'), 'issued-at'],
    ['an issued-at at 24:00', withLine(10, 'Issued At: 2021-09-30T24:00:00Z'), 'issued-at'],
    ['an issued-at as a unix time', withLine(10, 'Issued At: 1633019124'), 'issued-at'],
    // RFC 3339 allows these two, viem's reader does not: what the verifier sees could differ.
    ['an issued-at with a leap second', withLine(10, 'Issued At: 2016-12-31T23:59:60Z'), 'message'],
    ['an issued-at with a lower-case t', withLine(10, 'Issued At: 2021-09-30t16:25:24Z'), 'message'],
    ['a resource that is not a URI', withLine(12, '- not a uri'), 'resources'],
    ['a resource line without its dash', withLine(12, 'https://example.com/x'), 'message'],
    ['an unknown field', `${SPEC_EXAMPLE}\nColor: blue`, 'message'],
    ['Resources twice', `${SPEC_EXAMPLE}\nResources:`, 'message'],
    [
      'Not Before before Expiration Time',
      withLine(
        10,
        'Issued At: 2021-09-30T16:25:24Z\nNot Before: 2021-09-30T16:25:24Z\nExpiration Time: 2031-01-01T00:00:00Z',
      ),
      'message',
    ],
    [
      'Expiration Time twice',
      withLine(
        10,
        'Issued At: 2021-09-30T16:25:24Z\nExpiration Time: 2031-01-01T00:00:00Z\nExpiration Time: 2032-01-01T00:00:00Z',
      ),
      'message',
    ],
    [
      'a not-before after the expiration time',
      withLine(
        10,
        'Issued At: 2021-09-30T16:25:24Z\nExpiration Time: 2030-01-01T00:00:00Z\nNot Before: 2031-01-01T00:00:00Z',
      ),
      'not-before',
    ],
    [
      'a request id with a space',
      withLine(10, 'Issued At: 2021-09-30T16:25:24Z\nRequest ID: a b'),
      'request-id',
    ],
    ['only the header', SPEC_EXAMPLE.split('\n')[0]!, 'address'],
  ];
  for (const [what, text, siweField] of cases) assert.equal(refusal(text), siweField, what);
});

test('the optional lines parse in the order of the spec, an empty request id and an empty Resources list included', () => {
  const text = withLine(
    10,
    'Issued At: 2021-09-30T16:25:24Z\nExpiration Time: 2031-01-01T00:00:00+01:00\nNot Before: 2021-10-01T00:00:00.5Z\nRequest ID: ',
  )
    .split('\n')
    .slice(0, 13)
    .concat('Resources:')
    .join('\n');
  const parsed = parseSiwe(text, 'messageHex');
  assert.equal(parsed.expirationTime, '2031-01-01T00:00:00+01:00');
  assert.equal(parsed.notBefore, '2021-10-01T00:00:00.5Z');
  assert.equal(parsed.requestId, '');
  assert.deepEqual(parsed.resources, []);
  // viem reads the same message the same way.
  const theirs = viemParse(text);
  assert.equal(theirs.expirationTime?.getTime(), Date.parse('2030-12-31T23:00:00Z'));
  assert.equal(theirs.notBefore?.getTime(), Date.parse('2021-10-01T00:00:00.500Z'));
  // The field of the refusal is the one the caller used.
  try {
    parseSiwe(`${text}\n`, 'messageHex');
    assert.fail('accepted');
  } catch (err) {
    assert.ok(isWardenError(err, 'INVALID_REQUEST'));
    assert.equal(err.details.field, 'messageHex');
  }
});

test('fuzz: mutated SIWE messages are accepted only when they still conform, and never throw anything else', () => {
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      text: fc.string({ maxLength: 3, unit: 'binary' }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
      let text = SPEC_EXAMPLE;
      for (const m of mutations) {
        const at = m.at % (text.length + 1);
        text =
          m.kind === 'insert'
            ? text.slice(0, at) + m.text + text.slice(at)
            : text.slice(0, at) + text.slice(at + m.length);
      }
      let parsed: SiweMessage | null = null;
      try {
        parsed = parseSiwe(text, 'message');
      } catch (err) {
        assert.ok(isWardenError(err, 'INVALID_REQUEST'), String(err));
        return;
      }
      // Accepted: then viem's reader agrees on the fields an approver is shown.
      const theirs = viemParse(text);
      assert.equal(theirs.domain, parsed.domain);
      assert.equal(theirs.address, parsed.address);
      assert.equal(theirs.uri, parsed.uri);
      assert.equal(theirs.chainId, parsed.chainId);
      assert.equal(theirs.nonce, parsed.nonce);
    }),
    { numRuns: 2000 },
  );
});

test('the SIWE phrase is found whatever its case, spacing or hidden characters, and only there', () => {
  for (const text of [
    SPEC_EXAMPLE,
    'evil.example WANTS YOU TO SIGN IN WITH YOUR ETHEREUM ACCOUNT:',
    'x wants  you\tto sign\nin with your Ethereum account',
    'x wants\u200b you to sign in with your Eth\u00adereum account',
    'x wants\u00a0you to sign in with your Ethereum account',
    'x ｗａｎｔｓ you to sign in with your Ethereum account',
  ])
    assert.equal(mentionsSiwe(text), true, JSON.stringify(text));
  for (const text of ['hello', 'Sign in to example.com', 'wants you to sign in with your Bitcoin account'])
    assert.equal(mentionsSiwe(text), false, text);
});

test('RFC 3986 URIs: the RFC examples are URIs, malformed ones are not', () => {
  // RFC 3986 section 1.1.2 examples.
  for (const uri of [
    'ftp://ftp.is.co.za/rfc/rfc1808.txt',
    'http://www.ietf.org/rfc/rfc2396.txt',
    'ldap://[2001:db8::7]/c=GB?objectClass?one',
    'mailto:John.Doe@example.com',
    'news:comp.infosystems.www.servers.unix',
    'tel:+1-816-555-1212',
    'telnet://192.0.2.16:80/',
    'urn:oasis:names:specification:docbook:dtd:xml:4.1.2',
    'https://user:pw@example.com:8080/a/b?c=d&e#f/g?h',
    'http://[::ffff:192.0.2.1]/',
    'http://[v7.fe80::a+en1]/',
    'foo:',
  ])
    assert.equal(isUri(uri), true, uri);
  for (const uri of [
    '',
    'example.com',
    '//example.com/x',
    '/login',
    'https://exa mple.com',
    'https://example.com/a b',
    'https://example.com/%zz',
    'https://[::1/',
    'https://[1:2:3:4:5:6:7:8:9]/',
    'https://example.com/"x"',
    'https://example.com/\n',
    '1http://example.com',
    'https://example.com/é',
  ])
    assert.equal(isUri(uri), false, JSON.stringify(uri));
});

test('SIWE domains: host names and IPv4 with a port, nothing that reads as another host', () => {
  for (const d of [
    'example.com',
    'example.com:3388',
    'localhost',
    'localhost:3000',
    '127.0.0.1:8545',
    'xn--bcher-kva.example',
  ])
    assert.equal(isPlainDomain(d), true, d);
  for (const d of [
    '',
    'a@example.com',
    '[::1]',
    'example.com:',
    'example.com:99999',
    '-example.com',
    'example..com',
    'ex%61mple.com',
    'exa_mple.com',
    'example.com/',
  ])
    assert.equal(isPlainDomain(d), false, d);
});

test('RFC 3339 date-times: the RFC examples read right, impossible dates are refused', () => {
  // RFC 3339 section 5.8 examples.
  assert.equal(parseDateTime('1985-04-12T23:20:50.52Z'), Date.parse('1985-04-12T23:20:50.520Z'));
  assert.equal(parseDateTime('1996-12-19T16:39:57-08:00'), Date.parse('1996-12-20T00:39:57Z'));
  assert.equal(parseDateTime('1990-12-31T23:59:60Z'), Date.parse('1991-01-01T00:00:00Z'));
  assert.equal(parseDateTime('1990-12-31T15:59:60-08:00'), Date.parse('1991-01-01T00:00:00Z'));
  assert.equal(parseDateTime('1937-01-01T12:00:27.87+00:20'), Date.parse('1937-01-01T11:40:27.870Z'));
  assert.equal(parseDateTime('0050-06-01T00:00:00Z'), Date.parse('0050-06-01T00:00:00Z'));
  assert.equal(parseDateTime('2024-02-29T00:00:00z'), Date.parse('2024-02-29T00:00:00Z'));
  for (const bad of [
    '2023-02-29T00:00:00Z',
    '2021-04-31T00:00:00Z',
    '2021-13-01T00:00:00Z',
    '2021-00-01T00:00:00Z',
    '2021-01-01T24:00:00Z',
    '2021-01-01T23:60:00Z',
    '2021-01-01T23:59:61Z',
    '2021-01-01T00:00:00+24:00',
    '2021-01-01T00:00:00',
    '2021-01-01 00:00:00Z',
    '2021-1-01T00:00:00Z',
    '+02021-01-01T00:00:00Z',
    '2021-01-01T00:00:00.Z',
  ])
    assert.equal(parseDateTime(bad), null, bad);
});
