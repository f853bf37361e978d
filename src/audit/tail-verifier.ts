import type { Worker } from 'node:worker_threads';
import { wipe } from '../core/bytes.ts';
import { siblingModule, startModuleWorker } from '../core/module-worker.ts';
import type { Db } from '../store/store.ts';
import type { AuditKeyring } from './keyring.ts';
import type { FromTailWorker, ToTailWorker } from './tail-messages.ts';
import { readVerifiedMark, type VerifiedMark } from './verified-mark.ts';
import { ADVANCE_LIMIT } from './verify-tail.ts';

export interface TailVerifierOptions {
  /** Told why a walk earned no mark (a failing reader, a dead worker), so a stuck mark is seen. */
  log?: (message: string) => void;
  /** Default 15 s, well above a walk of ADVANCE_LIMIT records here (about half a second); then the worker is stopped. */
  timeoutMs?: number;
  /** The worker's script: tests give another one. */
  entry?: URL;
}

interface Pending {
  worker: Worker;
  keyring: AuditKeyring;
  /** Where the mark stood when the walk began: every record after it must open here. */
  from: number;
  /** Records whose details this thread opened for the walk. */
  opened: Set<number>;
  settle(mark: VerifiedMark | null): void;
}

/**
 * `earnedMark` on a worker thread (tail-worker.ts) over a read-only connection of its own. A
 * server's checkpoint walks every record appended since the last one, a second's worth (about
 * 2,000 at the peak here, 50 to 90 ms of work); on the thread that admits requests that walk was
 * the largest part of their latency at half the peak rate.
 *
 * The keyring stays on this thread: the worker sends the sealed blobs back to be authenticated
 * here, and a mark it reports is taken only if this thread opened the details of every record
 * from where the mark stood up to it (so a faulty worker cannot move the mark over records nobody
 * authenticated; the checkpoint's transaction then checks the marked record's hash again).
 *
 * Fails quiet, as the in-thread walk does for the checkpoint writer: a walk that fails, a worker
 * that dies or hangs, all come to "no mark earned" (the mark stays where it is, the next
 * checkpoint tries again with a new worker); only `warden audit verify` reports findings.
 */
export class TailVerifier {
  #worker: Worker | null = null;
  #nextId = 0;
  #closed = false;
  readonly #pending = new Map<number, Pending>();

  constructor(
    readonly path: string,
    private readonly options: TailVerifierOptions = {},
  ) {}

  /** `db`: this thread's own connection, to read where the mark stands before the walk. */
  async earnedMark(db: Db, keyring: AuditKeyring, limit = ADVANCE_LIMIT): Promise<VerifiedMark | null> {
    if (this.#closed) return null;
    const before = await readVerifiedMark(db, keyring).catch(() => null);
    if (before === null || before.kind === 'invalid' || this.#closed) return null;
    const from = before.kind === 'ok' ? before.mark.seq : 0;
    const worker = this.#started();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#log('the audit tail walk took too long; its worker is stopped');
        void this.#stop(worker);
      }, this.options.timeoutMs ?? 15_000);
      timer.unref();
      worker.ref();
      this.#pending.set(id, {
        worker,
        keyring,
        from,
        opened: new Set(),
        settle: (mark) => {
          clearTimeout(timer);
          this.#pending.delete(id);
          if (![...this.#pending.values()].some((p) => p.worker === worker)) worker.unref();
          resolve(mark);
        },
      });
      const request: ToTailWorker = {
        kind: 'earn',
        id,
        path: this.path,
        keyId: keyring.keyId,
        publicKey: keyring.publicKey,
        limit,
      };
      worker.postMessage(request);
    });
  }

  /** Stops the worker for good: walks under way, and any asked for later, come to no mark. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#worker) await this.#stop(this.#worker);
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startModuleWorker(this.options.entry ?? siblingModule(import.meta.url, 'tail-worker'));
    worker.on('message', (message: FromTailWorker) => void this.#onMessage(worker, message));
    worker.on('error', (err) => {
      this.#log(`the audit tail worker failed: ${err.message}`);
      void this.#stop(worker);
    });
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      this.#settleAll(worker);
    });
    // Held only while a walk is awaited (earnedMark refs it): an idle worker never keeps the
    // process alive. After the listeners, which would ref its port again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  async #onMessage(worker: Worker, message: FromTailWorker): Promise<void> {
    const pending = this.#pending.get(message.id);
    if (!pending || pending.worker !== worker) return;
    if (message.kind === 'earned') return pending.settle(this.#checked(pending, message.mark));
    if (message.kind === 'failed') {
      this.#log(`the audit tail walk earned no mark: ${message.message}`);
      return pending.settle(null);
    }
    let lengths: (number | null)[] | null = null;
    try {
      const opened = await pending.keyring.decryptMany(message.items);
      lengths = opened.map((plain) => (plain ? plain.length : null));
      for (const plain of opened) wipe(plain);
      message.items.forEach((item, i) => {
        const seq = recordSeqOf(item.aad);
        if (seq !== null && lengths?.[i] !== null) pending.opened.add(seq);
      });
    } catch {
      // The key could not be used (the vault sealed meanwhile): no walk can earn a mark now.
      pending.settle(null);
    }
    // Answered either way, so that the worker's walk ends (a null answer fails it).
    const answer: ToTailWorker = { kind: 'opened', callId: message.callId, lengths };
    worker.postMessage(answer);
  }

  /** The worker's mark if every record after `from` up to it was opened here, else none. */
  #checked(pending: Pending, mark: VerifiedMark | null): VerifiedMark | null {
    if (mark === null) return null;
    for (let seq = pending.from + 1; seq <= mark.seq; seq++) {
      if (!pending.opened.has(seq)) {
        this.#log(`the audit tail worker reported mark ${mark.seq} but record ${seq} was not authenticated`);
        return null;
      }
    }
    return mark;
  }

  async #stop(worker: Worker): Promise<void> {
    if (this.#worker === worker) this.#worker = null;
    this.#settleAll(worker);
    await worker.terminate();
  }

  #settleAll(worker: Worker): void {
    for (const pending of [...this.#pending.values()]) if (pending.worker === worker) pending.settle(null);
  }

  #log(message: string): void {
    this.options.log?.(message);
  }
}

/** The seq of a record's details aad (its canonical JSON, record.ts detailsAad); null for another blob's. */
function recordSeqOf(aad: Uint8Array): number | null {
  if (aad[0] !== 0x7b) return null; // '{': the mark's aad starts with its domain instead
  try {
    const seq = (JSON.parse(new TextDecoder().decode(aad)) as { seq?: unknown }).seq;
    return Number.isSafeInteger(seq) ? (seq as number) : null;
  } catch {
    return null;
  }
}
