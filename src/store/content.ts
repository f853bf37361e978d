import { createHash } from 'node:crypto';
import { WardenError } from '../core/errors.ts';
import type { Db, SyncTx } from './store.ts';

/**
 * Texts stored once by their SHA-256 (the `content` table): a part of many rows that is the same in
 * each (a request's risk assessment, built from the same catalog rows every time) is written once
 * and named by its hash where it appears. A row that names a hash commits to the exact text, and a
 * reader checks the text against its name, so an altered body is refused rather than shown.
 */
export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Stores `text` under its hash unless it is there already; returns the hash. A text put earlier in
 * the same transaction is not written again (the requests of one batch mostly share their
 * assessment): the transaction's memo says so, and it is emptied with whatever undoes the write.
 */
export function putContent(sync: SyncTx, text: string): string {
  const hash = contentHash(text);
  const key = `content:${hash}`;
  if (sync.memo.has(key)) return hash;
  sync.run('INSERT INTO content (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING', [hash, text]);
  sync.memo.set(key, true);
  return hash;
}

/**
 * The texts of `hashes` that are stored and match their hash; a missing or altered one is left
 * out, for the caller to refuse or to mark (`requireContents` refuses).
 */
export async function getContents(db: Db, hashes: Iterable<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const checked = checkedTexts.get(db) ?? new Map<string, string>();
  checkedTexts.set(db, checked);
  const missing: string[] = [];
  for (const hash of new Set(hashes)) {
    const known = checked.get(hash);
    if (known === undefined) missing.push(hash);
    else out.set(hash, known);
  }
  if (missing.length === 0) return out;
  const rows = await db.selectFrom('content').select(['hash', 'body']).where('hash', 'in', missing).execute();
  for (const row of rows) {
    if (contentHash(row.body) !== row.hash) continue;
    out.set(row.hash, row.body);
    if (checked.size >= CHECKED_TEXTS) checked.clear();
    checked.set(row.hash, row.body);
  }
  return out;
}

/**
 * Texts of each database already read and checked against their hash (they never change), so
 * views of requests of the same kind read theirs once. Bounded, emptied when full (there are few
 * distinct assessments).
 */
const checkedTexts = new WeakMap<Db, Map<string, string>>();
const CHECKED_TEXTS = 256;

/** As `getContents`, but a text that is missing or does not match its hash is a STORE_ERROR. */
export async function requireContents(db: Db, hashes: Iterable<string>): Promise<Map<string, string>> {
  const wanted = [...new Set(hashes)];
  const out = await getContents(db, wanted);
  const bad = wanted.find((hash) => !out.has(hash));
  if (bad !== undefined)
    throw new WardenError('STORE_ERROR', 'a stored part is missing or does not match its hash', {
      hash: bad,
    });
  return out;
}

/** The hashes whose stored text no longer matches them (for `audit verify`: every row is read). */
export async function alteredContents(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('content').select(['hash', 'body']).orderBy('hash').execute();
  return rows.filter((row) => contentHash(row.body) !== row.hash).map((row) => row.hash);
}

/** Which of `hashes` have a stored text (matching or not: `alteredContents` judges the texts). */
export async function storedHashes(db: Db, hashes: Iterable<string>): Promise<Set<string>> {
  const wanted = [...new Set(hashes)];
  const found = new Set<string>();
  // In slices: SQLite bounds the parameters of one statement.
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db
      .selectFrom('content')
      .select('hash')
      .where('hash', 'in', wanted.slice(i, i + 500))
      .execute();
    for (const row of rows) found.add(row.hash);
  }
  return found;
}
