import { constants } from 'node:buffer';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { constantTimeEqual, utf8, wipe } from '../core/bytes.ts';
import { type Canonical, canonicalJson } from '../core/canonical.ts';
import { type ErrorCode, WardenError } from '../core/errors.ts';
import { NONCE_LENGTH, openXChaCha, sealXChaCha, TAG_LENGTH } from './aead.ts';
import { type DerivedKeys, deriveKeys, type KdfParams, kdfParamsWithinBounds } from './kdf.ts';

/**
 * The sealed file format shared by the keystore and its backups (version 1):
 *
 *   { format, version, vaultId, kdf{alg,memoryKiB,iterations,parallelism,salt}, cipher, verifier,
 *     body: b64(nonce || XChaCha20-Poly1305(meta)), secrets: { id: b64(nonce || ciphertext) } }
 *
 * - The header (every field but body and secrets) is the associated data of the body, so any
 *   change to it fails authentication.
 * - Each secret is sealed on its own, bound to vaultId and its id, so one key can be unsealed to
 *   sign without decrypting the others. The body lists the digest of every sealed secret, so
 *   removing, adding or swapping a secret is detected.
 * - `verifier` is derived from the passphrase alongside the encryption key: it tells a wrong
 *   passphrase (VAULT_BAD_PASSPHRASE) from a damaged file (KEYSTORE_CORRUPT).
 * - A backup may also hold `database`: b64(nonce || XChaCha20-Poly1305(snapshot of warden.db)),
 *   bound to the header as associated data, with its digest in the body, so it can neither be
 *   swapped in from another backup nor stripped. Older backups have none.
 */
export type ContainerKind = 'warden-keystore' | 'warden-backup';
export const CONTAINER_VERSION = 1;
const CIPHER = 'xchacha20poly1305';
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** A backup carries the database too (audit log, ledger): base64 in JSON, so kept bounded. */
const MAX_BACKUP_BYTES = 512 * 1024 * 1024;
const { MAX_STRING_LENGTH } = constants;

/**
 * The most a container's file may hold: what parseContainer reads, and so what may be written. A
 * file is decoded to one string, so never more than the longest string V8 makes (24 bytes under
 * 512 MiB): past it, reading would fail however sound the file.
 */
function maxFileBytes(kind: ContainerKind): number {
  return kind === 'warden-backup' ? Math.min(MAX_BACKUP_BYTES, MAX_STRING_LENGTH) : MAX_FILE_BYTES;
}

/** What `n` bytes take in the file, as base64 in its JSON. */
function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

/** `bytes`: what the file would take, or null when it is past what a string can hold. */
function tooLarge(kind: ContainerKind, bytes: number | null): WardenError {
  const what = kind === 'warden-backup' ? 'backup' : 'keystore';
  const limit = maxFileBytes(kind);
  const size = bytes === null ? 'more bytes than a string holds' : `${bytes} bytes`;
  return new WardenError(
    'FILE_TOO_LARGE',
    `the ${what} would take ${size}, more than Warden reads back (${limit}); nothing was written`,
    { bytes, limit },
  );
}

export interface ContainerHeader {
  format: ContainerKind;
  version: number;
  vaultId: string;
  kdf: KdfParams;
  cipher: typeof CIPHER;
  verifier: Uint8Array;
}

export interface SealedContainer<M> {
  header: ContainerHeader;
  meta: M;
  secrets: Map<string, Uint8Array>;
  /** Backups only: the sealed database snapshot (see `sealDatabase`), absent in older ones. */
  database?: Uint8Array;
}

interface ErrorCodes {
  corrupt: ErrorCode;
  badPassphrase: ErrorCode;
}

function codesFor(kind: ContainerKind): ErrorCodes {
  return kind === 'warden-backup'
    ? { corrupt: 'BACKUP_CORRUPT', badPassphrase: 'BACKUP_BAD_PASSPHRASE' }
    : { corrupt: 'KEYSTORE_CORRUPT', badPassphrase: 'VAULT_BAD_PASSPHRASE' };
}

function headerAad(h: ContainerHeader): Uint8Array {
  return utf8(canonicalJson(headerJson(h)));
}

function headerJson(h: ContainerHeader): { [key: string]: Canonical } {
  return {
    format: h.format,
    version: h.version,
    vaultId: h.vaultId,
    kdf: {
      alg: h.kdf.alg,
      memoryKiB: h.kdf.memoryKiB,
      iterations: h.kdf.iterations,
      parallelism: h.kdf.parallelism,
      salt: base64.encode(h.kdf.salt),
    },
    cipher: h.cipher,
    verifier: base64.encode(h.verifier),
  };
}

function secretAad(vaultId: string, secretId: string): Uint8Array {
  return utf8(`warden/secret/v1/${vaultId}/${secretId}`);
}

export function sealSecret(
  kek: Uint8Array,
  vaultId: string,
  secretId: string,
  plaintext: Uint8Array,
): Uint8Array {
  return sealXChaCha(kek, plaintext, secretAad(vaultId, secretId));
}

/** Decrypts one secret. The caller owns the result and must wipe it. */
export function openSecret(
  kek: Uint8Array,
  vaultId: string,
  secretId: string,
  blob: Uint8Array,
  kind: ContainerKind = 'warden-keystore',
): Uint8Array {
  const plain = openXChaCha(kek, blob, secretAad(vaultId, secretId));
  if (plain === null)
    throw new WardenError(codesFor(kind).corrupt, 'a sealed secret failed authentication', { secretId });
  return plain;
}

function databaseAad(h: ContainerHeader): Uint8Array {
  return utf8(`warden/backup-database/v1\u0000${canonicalJson(headerJson(h))}`);
}

/** Seals a database snapshot into a backup under its key, bound to its header. */
export function sealDatabase(kek: Uint8Array, header: ContainerHeader, snapshot: Uint8Array): Uint8Array {
  return sealXChaCha(kek, snapshot, databaseAad(header));
}

/**
 * FILE_TOO_LARGE for a database snapshot whose backup could never be read back: its base64 must
 * leave the rest of the file (the keys and metadata, at most a keystore's bound) room under the
 * backup's. Checked before a backup does any other work (the file's own size is checked again
 * as it is encoded).
 */
export function checkBackupDatabaseSize(snapshotBytes: number): void {
  const inFile = base64Length(NONCE_LENGTH + snapshotBytes + TAG_LENGTH) + MAX_FILE_BYTES;
  if (inFile > maxFileBytes('warden-backup')) throw tooLarge('warden-backup', inFile);
}

export function openDatabase(kek: Uint8Array, header: ContainerHeader, blob: Uint8Array): Uint8Array {
  const plain = openXChaCha(kek, blob, databaseAad(header));
  if (plain === null)
    throw new WardenError('BACKUP_CORRUPT', 'the database in the backup failed authentication');
  return plain;
}

export async function newHeader(
  kind: ContainerKind,
  vaultId: string,
  passphrase: Uint8Array,
  kdf: Omit<KdfParams, 'alg' | 'salt'>,
): Promise<{ header: ContainerHeader; kek: Uint8Array }> {
  const params: KdfParams = { alg: 'argon2id', ...kdf, salt: randomBytes(16) };
  const keys = await deriveKeys(passphrase, params);
  const header: ContainerHeader = {
    format: kind,
    version: CONTAINER_VERSION,
    vaultId,
    kdf: params,
    cipher: CIPHER,
    verifier: keys.verifier,
  };
  return { header, kek: keys.kek };
}

/**
 * Serializes a container: seals the metadata (with the digests of all sealed secrets) under kek.
 * The metadata must be plain JSON data (strings, numbers, booleans, null, arrays, objects).
 */
export function encodeContainer<M>(c: SealedContainer<M>, kek: Uint8Array): Uint8Array {
  const digests: { [id: string]: string } = {};
  const secrets: { [id: string]: string } = {};
  for (const [id, blob] of [...c.secrets.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    digests[id] = bytesToHex(sha256(blob));
    secrets[id] = base64.encode(blob);
  }
  const databaseDigest = c.database ? { databaseDigest: bytesToHex(sha256(c.database)) } : {};
  const plaintext = utf8(
    canonicalJson({ meta: c.meta as Canonical, secretDigests: digests, ...databaseDigest }),
  );
  const body = sealXChaCha(kek, plaintext, headerAad(c.header));
  let text: string;
  try {
    const file = {
      ...headerJson(c.header),
      body: base64.encode(body),
      secrets,
      ...(c.database ? { database: base64.encode(c.database) } : {}),
    };
    text = `${JSON.stringify(file, null, 2)}\n`;
  } catch (err) {
    // Past the longest string V8 makes: far past what the reader takes.
    if (err instanceof RangeError) throw tooLarge(c.header.format, null);
    throw err;
  }
  const bytes = utf8(text);
  // A file its reader would refuse (parseContainer) is never written: a keystore or backup that
  // cannot be opened again is lost.
  if (bytes.length > maxFileBytes(c.header.format)) throw tooLarge(c.header.format, bytes.length);
  return bytes;
}

function decodeB64(value: unknown, codes: ErrorCodes, field: string): Uint8Array {
  if (typeof value !== 'string') throw corrupt(codes, `field ${field} is missing`);
  try {
    return base64.decode(value);
  } catch {
    throw corrupt(codes, `field ${field} is not valid base64`);
  }
}

function corrupt(codes: ErrorCodes, why: string): WardenError {
  return new WardenError(codes.corrupt, `the sealed file is damaged or was tampered with: ${why}`);
}

interface ParsedFile {
  header: ContainerHeader;
  body: Uint8Array;
  secrets: Map<string, Uint8Array>;
  database?: Uint8Array;
}

const FILE_FIELDS = new Set(['format', 'version', 'vaultId', 'kdf', 'cipher', 'verifier', 'body', 'secrets']);
const BACKUP_FIELDS = new Set([...FILE_FIELDS, 'database']);
const KDF_FIELDS = new Set(['alg', 'memoryKiB', 'iterations', 'parallelism', 'salt']);

/** Fields outside the format are refused: nothing unauthenticated rides along in a keystore. */
function refuseUnknownFields(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  prefix: string,
  codes: ErrorCodes,
): void {
  const unknown = Object.keys(value).find((k) => !known.has(k));
  if (unknown !== undefined) throw corrupt(codes, `unknown field ${prefix}${unknown.slice(0, 40)}`);
}

/** Structural parse of a hostile file; no key material involved yet. */
export function parseContainer(bytes: Uint8Array, kind: ContainerKind): ParsedFile {
  const codes = codesFor(kind);
  if (bytes.length > maxFileBytes(kind)) throw corrupt(codes, 'file too large');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw corrupt(codes, 'not valid JSON (truncated?)');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt(codes, 'not an object');
  refuseUnknownFields(raw, kind === 'warden-backup' ? BACKUP_FIELDS : FILE_FIELDS, '', codes);
  if (raw.format !== kind) throw corrupt(codes, `format is not ${kind}`);
  if (raw.version !== CONTAINER_VERSION) {
    // Never String() a hostile value: an object's toString may be anything, or not callable.
    const seen = typeof raw.version === 'number' ? raw.version : typeof raw.version;
    throw corrupt(codes, `unsupported version ${seen}`);
  }
  if (raw.cipher !== CIPHER) throw corrupt(codes, 'unsupported cipher');
  if (typeof raw.vaultId !== 'string' || !/^vlt_[a-z2-7]{26}$/.test(raw.vaultId))
    throw corrupt(codes, 'bad vault id');
  const kdf = raw.kdf as Record<string, unknown> | null;
  if (typeof kdf !== 'object' || kdf === null || kdf.alg !== 'argon2id') throw corrupt(codes, 'bad kdf');
  refuseUnknownFields(kdf, KDF_FIELDS, 'kdf.', codes);
  const params = {
    memoryKiB: kdf.memoryKiB as number,
    iterations: kdf.iterations as number,
    parallelism: kdf.parallelism as number,
  };
  if (!kdfParamsWithinBounds(params)) throw corrupt(codes, 'kdf parameters out of bounds');
  const salt = decodeB64(kdf.salt, codes, 'kdf.salt');
  if (salt.length < 16) throw corrupt(codes, 'salt too short');
  const verifier = decodeB64(raw.verifier, codes, 'verifier');
  const body = decodeB64(raw.body, codes, 'body');
  if (body.length < NONCE_LENGTH + TAG_LENGTH) throw corrupt(codes, 'body too short');
  const rawSecrets = raw.secrets;
  if (typeof rawSecrets !== 'object' || rawSecrets === null || Array.isArray(rawSecrets)) {
    throw corrupt(codes, 'secrets missing');
  }
  const secrets = new Map<string, Uint8Array>();
  for (const [id, value] of Object.entries(rawSecrets))
    secrets.set(id, decodeB64(value, codes, `secrets.${id}`));
  const header: ContainerHeader = {
    format: kind,
    version: CONTAINER_VERSION,
    vaultId: raw.vaultId,
    kdf: { alg: 'argon2id', ...params, salt },
    cipher: CIPHER,
    verifier,
  };
  const database = raw.database === undefined ? {} : { database: decodeB64(raw.database, codes, 'database') };
  return { header, body, secrets, ...database };
}

/**
 * Opens a container with a passphrase. Returns the key-encryption key (caller wipes it when
 * sealing again) and the metadata; secrets stay sealed.
 */
export async function openContainer<M>(
  bytes: Uint8Array,
  passphrase: Uint8Array,
  kind: ContainerKind,
): Promise<{ container: SealedContainer<M>; kek: Uint8Array }> {
  const parsed = parseContainer(bytes, kind);
  const keys = await deriveKeys(passphrase, parsed.header.kdf);
  return { container: openWithKeys<M>(parsed, keys, kind), kek: keys.kek };
}

/**
 * Opens with an already-derived key (re-reading the file while the vault is unsealed). `verifier`
 * is the one derived along with that key: a file with another verifier was re-sealed under a new
 * passphrase (by another process), which is not damage and is told apart (VAULT_SEALED).
 */
export function reopenContainer<M>(
  bytes: Uint8Array,
  kek: Uint8Array,
  verifier: Uint8Array,
  kind: ContainerKind,
): SealedContainer<M> {
  const parsed = parseContainer(bytes, kind);
  if (!constantTimeEqual(parsed.header.verifier, verifier)) {
    throw new WardenError(
      'VAULT_SEALED',
      'the keystore was re-sealed under another passphrase (or its header altered): unseal it again',
      { reason: 'passphrase_changed' },
    );
  }
  return decryptBody<M>(parsed, kek, codesFor(kind));
}

function openWithKeys<M>(parsed: ParsedFile, keys: DerivedKeys, kind: ContainerKind): SealedContainer<M> {
  const codes = codesFor(kind);
  const ok = constantTimeEqual(keys.verifier, parsed.header.verifier);
  wipe(keys.verifier);
  if (!ok) {
    wipe(keys.kek);
    throw new WardenError(codes.badPassphrase, 'wrong passphrase');
  }
  try {
    return decryptBody<M>(parsed, keys.kek, codes);
  } catch (err) {
    wipe(keys.kek);
    throw err;
  }
}

function decryptBody<M>(parsed: ParsedFile, kek: Uint8Array, codes: ErrorCodes): SealedContainer<M> {
  const plain = openXChaCha(kek, parsed.body, headerAad(parsed.header));
  if (plain === null) throw corrupt(codes, 'authentication failed');
  let decoded: { meta: M; secretDigests: Record<string, string>; databaseDigest?: string };
  try {
    decoded = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    throw corrupt(codes, 'metadata is not JSON');
  }
  const expected = Object.entries(decoded.secretDigests ?? {});
  if (expected.length !== parsed.secrets.size) throw corrupt(codes, 'the set of sealed secrets changed');
  for (const [id, digest] of expected) {
    const blob = parsed.secrets.get(id);
    if (!blob || bytesToHex(sha256(blob)) !== digest) throw corrupt(codes, `sealed secret ${id} changed`);
  }
  // The body names the database it was written with: one removed, added or swapped is refused.
  const db = parsed.database;
  if ((decoded.databaseDigest === undefined) !== (db === undefined)) {
    throw corrupt(codes, 'the database was added to or removed from the file');
  }
  if (db && bytesToHex(sha256(db)) !== decoded.databaseDigest) throw corrupt(codes, 'the database changed');
  return {
    header: parsed.header,
    meta: decoded.meta,
    secrets: parsed.secrets,
    ...(db ? { database: db } : {}),
  };
}
