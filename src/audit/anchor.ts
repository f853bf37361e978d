import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '../core/canonical.ts';
import { WardenError } from '../core/errors.ts';
import type { AuditCheckpoint } from './checkpoint-message.ts';

/**
 * The anchor file: the latest checkpoint, kept outside the database (`<home>/audit-head.json`).
 * Someone who deletes the tail of the log can delete the checkpoints that cover it in the same
 * database; they must also find and roll back this file, so the two together detect it.
 */

export const ANCHOR_VERSION = 1;
const MAX_ANCHOR_BYTES = 4096;
const FILE_MODE = 0o600;

export type AnchorRead =
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'ok'; checkpoint: AuditCheckpoint };

function encode(c: AuditCheckpoint): string {
  return `${canonicalJson({
    v: ANCHOR_VERSION,
    seq: c.seq,
    recordHash: bytesToHex(c.recordHash),
    time: c.time,
    keyId: c.keyId,
    signature: bytesToHex(c.signature),
  })}\n`;
}

const HEX32 = /^[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{128}$/;

function decode(text: string): AnchorRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'the anchor file is not JSON' };
  }
  if (typeof value !== 'object' || value === null)
    return { kind: 'invalid', reason: 'the anchor file is not an object' };
  const v = value as Record<string, unknown>;
  if (v.v !== ANCHOR_VERSION) return { kind: 'invalid', reason: 'the anchor file has an unknown version' };
  if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq) || v.seq < 1) {
    return { kind: 'invalid', reason: 'the anchor file has no valid seq' };
  }
  if (typeof v.recordHash !== 'string' || !HEX32.test(v.recordHash)) {
    return { kind: 'invalid', reason: 'the anchor file has no valid recordHash' };
  }
  if (typeof v.signature !== 'string' || !HEX64.test(v.signature)) {
    return { kind: 'invalid', reason: 'the anchor file has no valid signature' };
  }
  if (typeof v.time !== 'string' || typeof v.keyId !== 'string') {
    return { kind: 'invalid', reason: 'the anchor file has no valid time or keyId' };
  }
  return {
    kind: 'ok',
    checkpoint: {
      seq: v.seq,
      recordHash: hexToBytes(v.recordHash),
      time: v.time,
      keyId: v.keyId,
      signature: hexToBytes(v.signature),
    },
  };
}

export async function readAnchorFile(path: string): Promise<AnchorRead> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return { kind: 'invalid', reason: 'the anchor path is not a regular file' };
    if (st.size > MAX_ANCHOR_BYTES) return { kind: 'invalid', reason: 'the anchor file is too large' };
    return decode(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw new WardenError('FILE_NOT_FOUND', 'cannot read the audit anchor file', { path }, { cause: err });
  }
}

/**
 * Replaces the anchor file atomically: a temp file in the same directory (0600), fsync, rename over
 * the old one, fsync the directory. A crash leaves either the old or the new anchor, never half of one.
 *
 * The anchor only moves forward: if the file already names a later checkpoint, it is kept and false
 * is returned. A later anchor than the database's head is exactly the evidence of a truncated log;
 * overwriting it would erase that evidence. (Two processes racing here can at worst leave an older
 * valid checkpoint, which is weaker but still true.)
 */
export async function writeAnchorFile(path: string, checkpoint: AuditCheckpoint): Promise<boolean> {
  const current = await readAnchorFile(path);
  if (current.kind === 'ok' && current.checkpoint.seq > checkpoint.seq) return false;
  const text = encode(checkpoint);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${bytesToHex(randomBytes(8))}.tmp`);
  try {
    const handle = await open(tmp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (cause) {
    await unlink(tmp).catch(() => undefined);
    throw new WardenError('AUDIT_APPEND_FAILED', 'cannot write the audit anchor file', { path }, { cause });
  }
  await syncDir(dir);
  return true;
}

/** Makes the rename durable. Some platforms can't open a directory for fsync; there we rely on the rename. */
async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort (e.g. Windows); the file content itself was already synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
