import { isAddress } from 'viem';
import { parseSiweMessage as viemParseSiweMessage } from 'viem/siwe';
import { WardenError } from '../../../core/errors.ts';
import { isPlainDomain, isScheme, isUri, PCHARS_PATTERN, parseDateTime } from './grammar.ts';

/**
 * Sign-In with Ethereum (EIP-4361), read strictly: the whole message must conform to the ABNF of
 * the spec, line by line, or it is refused. A message that only looks like one (it says "wants you
 * to sign in with your Ethereum account" anywhere) is never signed as plain text, as the spec asks
 * of wallets. Fields are kept as written, so a parsed message is plain JSON.
 */
export interface SiweMessage {
  /** RFC 3986 scheme before the domain (`https`), or null when the message has none. */
  scheme: string | null;
  /** host[:port] as written. */
  domain: string;
  /** As written: lower case, upper case or a valid EIP-55 checksum. */
  address: `0x${string}`;
  /** Null when the message has none (never empty). */
  statement: string | null;
  uri: string;
  version: '1';
  chainId: number;
  nonce: string;
  /** RFC 3339 date-times as written. */
  issuedAt: string;
  expirationTime: string | null;
  notBefore: string | null;
  /** Null when absent; may be empty when the line is there. */
  requestId: string | null;
  /** Empty when the message lists none (or has no Resources line). */
  resources: string[];
}

const HEADER_END = ' wants you to sign in with your Ethereum account:';
const MARKER = 'wants you to sign in with your ethereum account';
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** statement = 1*( reserved / unreserved / " " ): printable ASCII but " % < > \ ^ ` { | }. */
const STATEMENT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]+$/;
const CHAIN_ID = /^[1-9][0-9]*$/;
const NONCE = /^[A-Za-z0-9]{8,}$/;

/**
 * Whether a text mentions the SIWE header phrase, whatever its case, spacing or hidden characters
 * (a zero-width space, a soft hyphen or a line break inside the phrase still count). A tripwire, not
 * a parser: any text it fires on must then parse as EIP-4361 in full.
 */
export function mentionsSiwe(text: string): boolean {
  const folded = text
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .toLowerCase();
  return folded.includes(MARKER);
}

/** Epoch milliseconds of a date-time this module already accepted. */
export function siweTime(value: string): number {
  const ms = parseDateTime(value);
  if (ms === null) throw new WardenError('INTERNAL', 'a stored SIWE date-time is unreadable');
  return ms;
}

/**
 * Parses an EIP-4361 message, or throws INVALID_REQUEST naming `field` (the request field that
 * carried it) and, in `details.siweField`, the part of the message that is wrong.
 */
export function parseSiwe(text: string, field: string): SiweMessage {
  const fail = (siweField: string, why: string, line?: number): never => {
    throw new WardenError(
      'INVALID_REQUEST',
      `${field} is not a valid EIP-4361 (Sign-In with Ethereum) message: ${why}`,
      {
        field,
        siweField,
        ...(line === undefined ? {} : { line }),
      },
    );
  };
  const lines = text.split('\n');

  const header = lines[0]!;
  if (!header.endsWith(HEADER_END))
    fail('header', 'the first line must be "<domain> wants you to sign in with your Ethereum account:"', 1);
  const origin = header.slice(0, -HEADER_END.length);
  const separator = origin.indexOf('://');
  const scheme = separator >= 0 ? origin.slice(0, separator) : null;
  const domain = separator >= 0 ? origin.slice(separator + 3) : origin;
  if (scheme !== null && !isScheme(scheme)) fail('scheme', 'the scheme is not an RFC 3986 scheme', 1);
  if (!isPlainDomain(domain))
    fail('domain', 'the domain must be a host name or IPv4 address with an optional port, nothing else', 1);

  const address = lines[1];
  if (address === undefined || !ADDRESS.test(address))
    fail('address', 'the second line must be the address: 0x and 40 hex digits', 2);
  const digits = address!.slice(2);
  if (
    digits !== digits.toLowerCase() &&
    digits !== digits.toUpperCase() &&
    !isAddress(address!, { strict: true })
  )
    fail('address', 'the address has a wrong EIP-55 checksum', 2);
  if (lines[2] !== '') fail('address', 'the address must be followed by an empty line', 3);

  let at: number;
  let statement: string | null = null;
  if (lines[3] === '') {
    at = 4; // no statement: a second empty line
  } else {
    statement = lines[3] ?? '';
    if (!STATEMENT.test(statement))
      fail('statement', 'the statement may hold only letters, digits, spaces and RFC 3986 reserved marks', 4);
    if (lines[4] !== '')
      fail(
        'statement',
        'the statement must be followed by an empty line (without a statement, the address is followed by two)',
        5,
      );
    at = 5;
  }

  const take = (label: string): string | null => {
    const line = lines[at];
    if (line === undefined || !line.startsWith(label)) return null;
    at++;
    return line.slice(label.length);
  };
  const need = (label: string, siweField: string): string => {
    const value = take(label);
    return value ?? fail(siweField, `expected a line starting "${label}"`, at + 1);
  };
  const dateTime = (value: string, siweField: string): string => {
    if (parseDateTime(value) === null) fail(siweField, 'not an RFC 3339 date-time', at);
    return value;
  };

  const uri = need('URI: ', 'uri');
  if (!isUri(uri)) fail('uri', 'the URI is not an RFC 3986 URI', at);
  const version = need('Version: ', 'version');
  if (version !== '1') fail('version', 'the version must be 1', at);
  const chainText = need('Chain ID: ', 'chain-id');
  if (!CHAIN_ID.test(chainText) || !Number.isSafeInteger(Number(chainText)))
    fail('chain-id', 'the chain id must be a positive integer without leading zeros', at);
  const nonce = need('Nonce: ', 'nonce');
  if (!NONCE.test(nonce)) fail('nonce', 'the nonce must be at least 8 letters or digits', at);
  const issuedAt = dateTime(need('Issued At: ', 'issued-at'), 'issued-at');
  const expiration = take('Expiration Time: ');
  const expirationTime = expiration === null ? null : dateTime(expiration, 'expiration-time');
  const before = take('Not Before: ');
  const notBefore = before === null ? null : dateTime(before, 'not-before');
  const requestId = take('Request ID: ');
  if (requestId !== null && !PCHARS_PATTERN.test(requestId))
    fail('request-id', 'the request id may hold only RFC 3986 path characters', at);
  const resources: string[] = [];
  if (lines[at] === 'Resources:') {
    at++;
    for (let resource = take('- '); resource !== null; resource = take('- ')) {
      if (!isUri(resource)) fail('resources', 'every resource must be an RFC 3986 URI', at);
      resources.push(resource);
    }
  }
  if (at < lines.length) {
    fail(
      'message',
      lines[at] === '' && at === lines.length - 1
        ? 'the message must not end with a line break'
        : 'unexpected line (fields come in the order of EIP-4361, each once)',
      at + 1,
    );
  }
  if (expirationTime !== null && notBefore !== null && siweTime(notBefore) >= siweTime(expirationTime))
    fail('not-before', 'the message is never valid: not-before is not before its expiration time');

  const parsed: SiweMessage = {
    scheme,
    domain,
    address: address as `0x${string}`,
    statement,
    uri,
    version: '1',
    chainId: Number(chainText),
    nonce,
    issuedAt,
    expirationTime,
    notBefore,
    requestId,
    resources,
  };
  if (!readsTheSameWithViem(text, parsed))
    fail('message', 'a common verifier (viem) reads this message differently; it is refused');
  return parsed;
}

/**
 * A relying party reads the signed message with its own parser. viem's is the one this project
 * has: if it reads any field otherwise (or cannot read a date, e.g. a leap second), what the
 * approver was shown might not be what the verifier sees, so the message is refused.
 */
function readsTheSameWithViem(text: string, ours: SiweMessage): boolean {
  let theirs: ReturnType<typeof viemParseSiweMessage>;
  try {
    theirs = viemParseSiweMessage(text);
  } catch {
    return false;
  }
  const time = (value: string | null) => (value === null ? undefined : siweTime(value));
  const same = (a: unknown, b: unknown) => (a === '' || a === null ? undefined : a) === b;
  return (
    same(ours.scheme, theirs.scheme) &&
    same(ours.domain, theirs.domain) &&
    same(ours.address, theirs.address) &&
    same(ours.statement, theirs.statement) &&
    same(ours.uri, theirs.uri) &&
    same(ours.version, theirs.version) &&
    same(ours.chainId, theirs.chainId) &&
    same(ours.nonce, theirs.nonce) &&
    time(ours.issuedAt) === theirs.issuedAt?.getTime() &&
    time(ours.expirationTime) === theirs.expirationTime?.getTime() &&
    time(ours.notBefore) === theirs.notBefore?.getTime() &&
    same(ours.requestId, theirs.requestId) &&
    JSON.stringify(ours.resources) === JSON.stringify(theirs.resources ?? [])
  );
}
