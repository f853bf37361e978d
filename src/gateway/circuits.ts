import { okRecordsBetween, readHead } from '../audit/rows.ts';
import { type Isolation, processIsolation } from '../net/isolation.ts';
import { auditedChangeAt } from './admin.ts';
import type { Warden } from './warden.ts';

/** The audit action of an operator's "new Tor circuits for this identity". */
export const ROTATE_CIRCUITS_ACTION = 'net.circuits.rotate';

/**
 * An identity's Tor circuits, rotated from any process. The operator's rotation is an audit
 * record, and the record is the request: the process that makes the identity's requests (the
 * running server, when the CLI wrote it) follows the log (`follow`, every second while unsealed)
 * and gives each rotated identity a new SOCKS nonce in its isolation (net/isolation.ts), so that
 * identity's next stream goes out on a new circuit and no other identity's circuits change (never
 * a global NEWNYM). A key rotation does the same at once, without waiting for the log: the vault
 * reports it on the first access that reads the new keystore, before the request that made that
 * access goes out, so no traffic of the new key leaves on the old key's circuits.
 *
 * The log is read by its plain action column, only what was appended since the last call: a
 * forged record could only rotate, never keep a circuit, so nothing here needs the chain's
 * authentication. Nothing from before this process needs following: a new process starts with
 * fresh nonces for every identity.
 */
export class Circuits {
  #seen: number | null = null;
  /** Records this process has already applied (rotated here as they were written). */
  readonly #applied = new Set<number>();
  readonly #listeners = new Set<(identity: string) => void>();

  constructor(
    private readonly warden: Warden,
    private readonly isolation: Isolation = processIsolation,
  ) {
    warden.vault.onKeyRotation((identity) => this.#rotateHere(identity));
  }

  /**
   * Calls `listener` with each identity rotated in this process: what keeps a connection open
   * across requests (the NWC door's relay sockets) reopens it on the new circuits.
   */
  onRotated(listener: (identity: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #rotateHere(identity: string): void {
    this.isolation.rotate(identity);
    for (const listener of this.#listeners) listener(identity);
  }

  /** Records the rotation of one identity's circuits and applies it in this process at once. */
  async rotate(identity: string, reason: string | null = null): Promise<{ seq: number }> {
    this.warden.vault.getIdentity(identity);
    const { seq } = await auditedChangeAt(this.warden, ROTATE_CIRCUITS_ACTION, identity, async () => ({
      result: null,
      details: { identity, reason },
    }));
    this.#applied.add(seq);
    this.#rotateHere(identity);
    return { seq };
  }

  /**
   * Rotates each identity another process rotated since the last call; returns them. The log's
   * position moves only once what lies before it was read: a failed read is read again next call.
   */
  async follow(): Promise<string[]> {
    const db = this.warden.store.db;
    const upTo = (await readHead(db))?.seq ?? 0;
    const after = this.#seen;
    const rows =
      after === null || upTo <= after
        ? []
        : await okRecordsBetween(db, after, upTo, [ROTATE_CIRCUITS_ACTION]);
    this.#seen = Math.max(after ?? 0, upTo);
    const rotated: string[] = [];
    for (const { seq, identity } of rows) {
      if (this.#applied.has(Number(seq)) || identity === null) continue;
      this.#rotateHere(identity);
      rotated.push(identity);
    }
    for (const seq of this.#applied) if (seq <= upTo) this.#applied.delete(seq);
    return rotated;
  }
}
