import { wordlist } from '@scure/bip39/wordlists/english.js';
import { setOwnField } from './own-field.ts';

/**
 * Redaction of key material for logs and any other text that leaves the vault.
 *
 * Pure functions, no I/O. The rule of this file: a false positive (a txid, a public key or a long
 * calldata hex shown as `[REDACTED]`) is acceptable; a false negative (a secret printed) is not.
 * Every regular expression here runs in linear time: no nested quantifiers, and a pattern that could
 * rescan a long run from each of its characters starts with a literal or a look-behind on its own
 * character class, so each run is scanned from one start only.
 *
 * What `redactString` finds, in order:
 * - PEM private key blocks (`-----BEGIN … PRIVATE KEY-----` to its END line);
 * - NWC URIs (`nostr+walletconnect://…`) that carry a `secret=` parameter: the whole URI;
 * - URL user-info (`scheme://user:password@host`): the whole user-info part;
 * - HTTP `Authorization:` values (the scheme word is kept) and `Bearer <token>` anywhere;
 * - JSON members and `name=value` pairs (query strings, env lines, flags) whose name looks secret;
 * - bech32 secrets: `nsec1…`, `ncryptsec1…` (NIP-49), `ms1…` (codex32 / BIP-93 seed shares);
 * - extended private keys (`xprv`, `tprv`, `yprv`, `zprv`, `uprv`, `vprv`, `Yprv`, `Zprv`, `Uprv`,
 *   `Vprv` + base58, 100+ characters in all);
 * - Warden API tokens (`wdn_` + 40 or more base32/base64url characters);
 * - base64 macaroons (LND and other v2 macaroons start with `AgE`);
 * - any run of 64 or more hex digits: private keys, seeds, preimages, hex macaroons — and also
 *   txids, public keys, signatures and calldata (accepted false positives);
 * - WIF private keys (base58, 51 characters starting with 5 or 9, 52 starting with K, L or c);
 * - BIP-39 phrases: 12 or more consecutive words of the English list, also with numbering or
 *   punctuation between the words, 4-letter abbreviations or one mistyped word (`redactMnemonics`).
 *
 * Generic base64 is not redacted in free text (it cannot be told from ordinary data); under a field
 * name that looks secret, `redactValue` redacts any value.
 */

export const REDACTED = '[REDACTED]';
/** Marker for a value cut because of a cycle or nesting deeper than `MAX_DEPTH`. */
export const CUT = '[…]';
/** Objects nested deeper than this are replaced by `CUT`. */
export const MAX_DEPTH = 8;

/** Field names whose value is always redacted, whatever it looks like. */
export const SECRET_FIELD =
  /secret|priv|private|mnemonic|seed|nsec|passphrase|password|token|preimage|macaroon|rune|authorization|cookie|xprv|entropy|phrase|credential|api[-_]?key|bearer|jwt/i;

export function isSecretFieldName(name: string): boolean {
  return SECRET_FIELD.test(name);
}

const B58 = '1-9A-HJ-NP-Za-km-z';
// bech32 data characters; the patterns using it carry the `i` flag (bech32 may be upper case).
const BECH32 = '02-9ac-hj-np-z';

const PEM_PRIVATE_KEY =
  /-----BEGIN[^\r\n-]{0,40}PRIVATE KEY-----[^-]*(?:-----END[^\r\n-]{0,40}PRIVATE KEY-----)?/g;
const NWC_URI = /nostr\+?walletconnect:[^\s"'`<>\\]*/gi;
const NWC_SECRET_PARAM = /[?&;]secret=/i;
const URL_USERINFO = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@"'`<>\\]+@/g;
const AUTHORIZATION =
  /(?<![A-Za-z0-9_-])((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?)((?:Bearer|Basic|Digest|Nostr|Token|Negotiate|AWS4-HMAC-SHA256|L402|LSAT)[ \t]+)?([^\s"',;]+)/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi;
const JSON_MEMBER = /"([^"\\\r\n]{1,100})"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,}\]"]+)/g;
const NAME_VALUE = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)=(?!=)([^\s&"'`<>\\,;#]+)/g;
const NSEC = new RegExp(`nsec1[${BECH32}]{20,}`, 'gi');
const NCRYPTSEC = new RegExp(`ncryptsec1[${BECH32}]{20,}`, 'gi');
const CODEX32 = new RegExp(`(?<![A-Za-z0-9])ms1[${BECH32}]{44,}`, 'gi');
const XPRV = new RegExp(`[xtyzuvYZUV]prv[${B58}]{96,}`, 'g');
const WARDEN_TOKEN = /wdn_[A-Za-z0-9_-]{40,}/g;
const MACAROON_B64 = /(?<![A-Za-z0-9+/_-])AgE[A-Za-z0-9+/_-]{40,}={0,2}/g;
const HEX_RUN = /(?<![0-9a-fA-F])[0-9a-fA-F]{64,}/g;
const WIF = new RegExp(`(?<![A-Za-z0-9_])(?:[59][${B58}]{50}|[KLc][${B58}]{51})(?![A-Za-z0-9_])`, 'g');

const AUTH_SCHEME_PREFIX = /^(?:Bearer|Basic|Digest|Nostr|Token)\s+/i;

function redactNamedValue(value: string): string {
  if (value === REDACTED) return value;
  const scheme = AUTH_SCHEME_PREFIX.exec(value);
  return scheme ? `${scheme[0]}${REDACTED}` : REDACTED;
}

/**
 * Replaces everything in `text` that looks like key material with `[REDACTED]`. Idempotent:
 * redacting a redacted string changes nothing. Runs in time linear in `text.length`.
 *
 * A replacement can open a boundary that an earlier pattern needed (`nsec1…Bearer tok` only shows
 * `Bearer tok` once the nsec is gone), so passes repeat until nothing changes (at most 4; text
 * without secrets takes one pass).
 */
export function redactString(text: string): string {
  if (text.length < 8) return text;
  let s = text;
  for (let i = 0; i < 4; i++) {
    const next = redactOnce(s);
    if (next === s) break;
    s = next;
  }
  return s;
}

function redactOnce(text: string): string {
  let s = text;
  s = s.replace(PEM_PRIVATE_KEY, REDACTED);
  s = s.replace(NWC_URI, (uri) => (NWC_SECRET_PARAM.test(uri) ? REDACTED : uri));
  s = s.replace(URL_USERINFO, `$1${REDACTED}@`);
  s = s.replace(
    AUTHORIZATION,
    (_m, head: string, scheme: string | undefined) => `${head}${scheme ?? ''}${REDACTED}`,
  );
  s = s.replace(BEARER, `$1${REDACTED}`);
  s = s.replace(JSON_MEMBER, (m, name: string, colon: string, value: string) => {
    if (!isSecretFieldName(name)) return m;
    if (value.startsWith('"')) return `"${name}"${colon}"${redactNamedValue(value.slice(1, -1))}"`;
    return `"${name}"${colon}"${REDACTED}"`;
  });
  s = s.replace(NAME_VALUE, (m, name: string) => (isSecretFieldName(name) ? `${name}=${REDACTED}` : m));
  s = s.replace(NSEC, REDACTED);
  s = s.replace(NCRYPTSEC, REDACTED);
  s = s.replace(CODEX32, REDACTED);
  s = s.replace(XPRV, REDACTED);
  s = s.replace(WARDEN_TOKEN, REDACTED);
  s = s.replace(MACAROON_B64, REDACTED);
  s = s.replace(HEX_RUN, REDACTED);
  s = s.replace(WIF, REDACTED);
  return redactMnemonics(s);
}

// ---------------------------------------------------------------------------------------------
// BIP-39 phrases

const WORDS: ReadonlySet<string> = new Set(wordlist);
// In the English list the first four letters identify a word; metal backups often keep only those.
const PREFIXES: ReadonlySet<string> = new Set(wordlist.filter((w) => w.length > 4).map((w) => w.slice(0, 4)));
/** A phrase is this many words (BIP-39 phrases are 12 to 24 words). */
export const MNEMONIC_MIN_WORDS = 12;
const LETTERS = /[A-Za-z]+/g;

function isMnemonicWord(lower: string): boolean {
  return WORDS.has(lower) || (lower.length === 4 && PREFIXES.has(lower));
}

/**
 * Redacts BIP-39 English phrases. Words are maximal runs of ASCII letters (case-insensitive); any
 * non-letters between them (spaces, newlines, numbering like `1.`, JSON punctuation) separate them.
 * A word counts when it is in the list or is the 4-letter prefix of a list word. Every window of
 * 12 consecutive words with at most one word not in the list is redacted, from its first word to
 * its last: so a run of 12+ list words is always redacted, and a phrase with a single typo too.
 */
export function redactMnemonics(text: string): string {
  if (text.length < MNEMONIC_MIN_WORDS * 4 - 1) return text;
  const starts: number[] = [];
  const ends: number[] = [];
  const known: boolean[] = [];
  LETTERS.lastIndex = 0;
  for (let m = LETTERS.exec(text); m !== null; m = LETTERS.exec(text)) {
    starts.push(m.index);
    ends.push(m.index + m[0].length);
    known.push(m[0].length <= 8 && isMnemonicWord(m[0].toLowerCase()));
  }
  const n = known.length;
  if (n < MNEMONIC_MIN_WORDS) return text;
  // marked[i]: token i lies in a window of MNEMONIC_MIN_WORDS tokens with at most one unknown.
  const marked = new Uint8Array(n);
  let unknown = 0;
  let markedUpTo = -1;
  for (let i = 0; i < n; i++) {
    if (!known[i]) unknown++;
    const first = i - MNEMONIC_MIN_WORDS + 1;
    if (first < 0) continue;
    if (first > 0 && !known[first - 1]) unknown--;
    if (unknown <= 1) {
      for (let j = Math.max(first, markedUpTo + 1); j <= i; j++) marked[j] = 1;
      markedUpTo = i;
    }
  }
  if (markedUpTo < 0) return text;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    if (marked[i] !== 1) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && marked[j + 1] === 1) j++;
    out += text.slice(last, starts[i]) + REDACTED;
    last = ends[j] ?? text.length;
    i = j + 1;
  }
  return out + text.slice(last);
}

// ---------------------------------------------------------------------------------------------
// Structured values

export interface RedactOptions {
  /** Keep (redacted) stack traces of errors. For debug logs only. Default false. */
  readonly includeStack?: boolean;
}

/** At most this many objects and arrays are copied per call; the rest become `CUT`. */
export const MAX_NODES = 10_000;

interface Walk {
  readonly options: RedactOptions;
  readonly ancestors: WeakSet<object>;
  budget: number;
}

/**
 * A deep, redacted, JSON-friendly copy of `value`:
 * - a field whose name looks secret (see `SECRET_FIELD`) becomes `[REDACTED]` whatever its value
 *   (only `null`, `undefined` and booleans are kept: they cannot hold key material);
 * - every string (and every field name) goes through `redactString`;
 * - bytes (`Uint8Array`, `Buffer`, any typed array, `ArrayBuffer`, `DataView`, a Buffer's JSON form)
 *   become `[REDACTED BYTES n]`: bytes are never logged;
 * - errors become `{ name, code?, message }` with the message redacted, no stack (unless
 *   `options.includeStack`, and then redacted too);
 * - cycles, objects nested deeper than `MAX_DEPTH` and objects past `MAX_NODES` become `[…]`;
 *   `bigint` becomes its decimal string; `Map` becomes an object, `Set` an array, a `Date` its ISO
 *   string; objects with `toJSON` are redacted after it; HTTP requests and responses are reduced
 *   to method, url, status and headers; functions become `undefined`.
 */
export function redactValue(value: unknown, depth = 0, options: RedactOptions = {}): unknown {
  return redactInner(value, depth, { options, ancestors: new WeakSet<object>(), budget: MAX_NODES });
}

/** An error as `{ name, code?, message[, stack] }`, all redacted. */
export function redactError(err: Error, options: RedactOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { name: redactString(String(safeGet(err, 'name') ?? 'Error')) };
  const code = safeGet(err, 'code');
  if (typeof code === 'string') out.code = redactString(code);
  else if (typeof code === 'number') out.code = code;
  const message = safeGet(err, 'message');
  out.message = redactString(typeof message === 'string' ? message : String(message ?? ''));
  if (options.includeStack === true) {
    const stack = safeGet(err, 'stack');
    if (typeof stack === 'string') out.stack = redactString(stack);
  }
  return out;
}

function safeGet(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function redactedBytes(n: number): string {
  return `[REDACTED BYTES ${n}]`;
}

function isBufferJson(obj: object): obj is { type: 'Buffer'; data: unknown[] } {
  const o = obj as { type?: unknown; data?: unknown };
  return o.type === 'Buffer' && Array.isArray(o.data);
}

/** The shape of node's http.IncomingMessage / ServerResponse: logged as a summary, never walked. */
function httpSummary(obj: object): Record<string, unknown> | undefined {
  if (
    safeGet(obj, 'method') !== undefined &&
    safeGet(obj, 'headers') !== undefined &&
    safeGet(obj, 'socket') !== undefined
  ) {
    return { method: safeGet(obj, 'method'), url: safeGet(obj, 'url'), headers: safeGet(obj, 'headers') };
  }
  if (typeof safeGet(obj, 'setHeader') === 'function' && typeof safeGet(obj, 'getHeaders') === 'function') {
    let headers: unknown;
    try {
      headers = (obj as { getHeaders: () => unknown }).getHeaders();
    } catch {
      headers = undefined;
    }
    return { statusCode: safeGet(obj, 'statusCode'), headers };
  }
  return undefined;
}

function redactField(name: string, value: unknown, depth: number, walk: Walk): unknown {
  if (isSecretFieldName(name) && value !== null && value !== undefined && typeof value !== 'boolean') {
    return REDACTED;
  }
  return redactInner(value, depth, walk);
}

function redactInner(value: unknown, depth: number, walk: Walk): unknown {
  switch (typeof value) {
    case 'string':
      return redactString(value);
    case 'bigint':
      return value.toString(10);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'symbol':
      return redactString(value.toString());
    case 'function':
      return undefined;
  }
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return redactedBytes(value.byteLength);
  if (value instanceof ArrayBuffer) return redactedBytes(value.byteLength);
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) {
    return redactedBytes(value.byteLength);
  }
  if (value instanceof Error) return redactError(value, walk.options);
  if (depth > MAX_DEPTH || walk.budget <= 0 || walk.ancestors.has(value)) return CUT;
  walk.budget--;
  walk.ancestors.add(value);
  try {
    return redactObject(value, depth, walk);
  } finally {
    walk.ancestors.delete(value);
  }
}

function redactObject(value: object, depth: number, walk: Walk): unknown {
  const next = depth + 1;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(redactInner(safeGet(value, String(i)), next, walk));
    return out;
  }
  if (isBufferJson(value)) return redactedBytes(value.data.length);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      const name = typeof k === 'string' ? k : String(redactInner(k, next, walk));
      setOwnField(out, redactString(name), redactField(name, v, next, walk));
    }
    return out;
  }
  if (value instanceof Set) return [...value].map((v) => redactInner(v, next, walk));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  const http = httpSummary(value);
  if (http !== undefined) return redactPlain(http, next, walk);
  const toJSON = safeGet(value, 'toJSON');
  if (typeof toJSON === 'function') {
    let json: unknown;
    try {
      json = toJSON.call(value);
    } catch {
      return '[unserializable]';
    }
    // A toJSON returning the object itself is redacted as plain data.
    if (json === value) return redactPlain(value, next, walk);
    return redactInner(json, next, walk);
  }
  return redactPlain(value, next, walk);
}

function redactPlain(value: object, next: number, walk: Walk): unknown {
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch {
    return '[unserializable]';
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    let v: unknown;
    try {
      v = (value as Record<string, unknown>)[key];
    } catch {
      v = '[unreadable]';
    }
    setOwnField(out, redactString(key), redactField(key, v, next, walk));
  }
  return out;
}
