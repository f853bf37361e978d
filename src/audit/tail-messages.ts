import type { SealedDetails } from '../keys/audit-keys.ts';
import type { VerifiedMark } from './verified-mark.ts';

/** What the thread owning the keyring sends to the tail worker (tail-worker.ts). */
export type ToTailWorker =
  | EarnRequest
  /**
   * The answer to an `open`: per blob, the length it opened to, or null where it does not
   * authenticate; `lengths` null when the key could not be used (the walk fails).
   */
  | { kind: 'opened'; callId: number; lengths: (number | null)[] | null };

/** Walk the log at `path` after its verified mark, at most `limit` records (earnedMark). */
export interface EarnRequest {
  kind: 'earn';
  id: number;
  path: string;
  keyId: string;
  publicKey: Uint8Array;
  limit: number;
}

/** What the tail worker answers. */
export type FromTailWorker =
  | { kind: 'open'; id: number; callId: number; items: SealedDetails[] }
  | { kind: 'earned'; id: number; mark: VerifiedMark | null }
  | { kind: 'failed'; id: number; message: string };
