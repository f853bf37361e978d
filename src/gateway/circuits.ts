import { type Isolation, processIsolation } from '../net/isolation.ts';
import type { Db } from '../store/store.ts';
import { auditedChangeAt } from './admin.ts';
import type { Warden } from './warden.ts';

/** The audit action of an operator's "new Tor circuits for this identity". */
export const ROTATE_CIRCUITS_ACTION = 'net.circuits.rotate';

/**
 * The actions after which an identity's next requests leave on new circuits: the operator's
 * rotation, and a key rotation (the new key's traffic never shares circuits with the old key's).
 */
const ROTATING_ACTIONS = [ROTATE_CIRCUITS_ACTION, 'identity.rotate'] as const;

/**
 * An identity's Tor circuits, rotated from any process. The audit record is the request: the
 * process that makes the identity's requests (the running server, when the CLI wrote it) follows
 * the log (`follow`, every second) and gives each rotated identity a new SOCKS nonce in its
 * isolation (net/isolation.ts), so that identity's next stream goes out on a new circuit and no
 * other identity's circuits change (never a global NEWNYM).
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

  constructor(
    private readonly warden: Warden,
    private readonly isolation: Isolation = processIsolation,
  ) {}

  /** Records the rotation of one identity's circuits and applies it in this process at once. */
  async rotate(identity: string): Promise<{ seq: number }> {
    this.warden.vault.getIdentity(identity);
    const { seq } = await auditedChangeAt(this.warden, ROTATE_CIRCUITS_ACTION, identity, async () => ({
      result: null,
      details: { identity },
    }));
    this.isolation.rotate(identity);
    this.#applied.add(seq);
    return { seq };
  }

  /** Rotates each identity rotated by another process since the last call; returns them. */
  async follow(): Promise<string[]> {
    const db: Db = this.warden.store.db;
    const top = await db
      .selectFrom('audit_log')
      .select((e) => e.fn.max('seq').as('seq'))
      .executeTakeFirst();
    const upTo = Number(top?.seq ?? 0);
    const after = this.#seen;
    this.#seen = upTo;
    const rows =
      after === null || upTo <= after
        ? []
        : await db
            .selectFrom('audit_log')
            .select(['seq', 'identity'])
            .where('seq', '>', after)
            .where('seq', '<=', upTo)
            .where('action', 'in', ROTATING_ACTIONS)
            .where('outcome', '=', 'ok')
            .orderBy('seq')
            .execute();
    const rotated: string[] = [];
    for (const { seq, identity } of rows) {
      if (this.#applied.has(Number(seq)) || identity === null) continue;
      this.isolation.rotate(identity);
      rotated.push(identity);
    }
    for (const seq of this.#applied) if (seq <= upTo) this.#applied.delete(seq);
    return rotated;
  }
}
