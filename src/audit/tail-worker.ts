/**
 * The worker thread of tail-verifier.ts: walks the log after the verified mark on a read-only
 * connection of its own, so that a running server's checkpoints do not stall its requests.
 *
 * It never holds an audit key. Whether a sealed blob authenticates is asked of the thread that
 * owns the keyring, which answers with the opened length (or null) and never the plaintext; the
 * walk and the mark check read nothing else of an opened blob (they test it and wipe it).
 */
import { parentPort } from 'node:worker_threads';
import { WardenError } from '../core/errors.ts';
import { type Db, openSqliteReader } from '../store/store.ts';
import type { AuditKeyring } from './keyring.ts';
import type { EarnRequest, FromTailWorker, ToTailWorker } from './tail-messages.ts';
import { earnedMark } from './verify-tail.ts';

const port = parentPort;
if (!port) throw new Error('tail-worker.ts runs only as a worker thread');

let reader: { path: string; db: Db; close(): Promise<void> } | null = null;
let nextCall = 0;
const answers = new Map<number, (lengths: (number | null)[] | null) => void>();

const post = (message: FromTailWorker) => port.postMessage(message);

function dbAt(path: string): Db {
  if (reader?.path !== path) {
    void reader?.close();
    reader = { path, ...openSqliteReader(path) };
  }
  return reader.db;
}

function remoteKeyring(request: EarnRequest): AuditKeyring {
  const refused = () => {
    throw new WardenError('INTERNAL', 'the tail verifier only checks blobs; it holds no audit key');
  };
  return {
    keyId: request.keyId,
    publicKey: request.publicKey,
    sign: async () => refused(),
    encrypt: () => refused(),
    decrypt: async () => refused(),
    decryptMany: (items) =>
      new Promise((resolve, reject) => {
        const callId = nextCall++;
        answers.set(callId, (lengths) => {
          if (lengths === null) return reject(new Error('the audit key could not be used'));
          // Zeros of the opened length stand for the plaintext this thread is never given.
          resolve(lengths.map((n) => (n === null ? null : new Uint8Array(n))));
        });
        post({ kind: 'open', id: request.id, callId, items: [...items] });
      }),
  };
}

async function earn(request: EarnRequest): Promise<void> {
  try {
    const mark = await earnedMark(dbAt(request.path), remoteKeyring(request), request.limit);
    post({ kind: 'earned', id: request.id, mark });
  } catch (err) {
    post({ kind: 'failed', id: request.id, message: err instanceof Error ? err.message : String(err) });
  }
}

port.on('message', (message: ToTailWorker) => {
  if (message.kind === 'earn') void earn(message);
  else if (message.kind === 'opened') {
    const answer = answers.get(message.callId);
    answers.delete(message.callId);
    answer?.(message.lengths);
  }
});
