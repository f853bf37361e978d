import { Worker } from 'node:worker_threads';
import { wipe } from '../core/bytes.ts';
import type { AuditKeyring } from './keyring.ts';
import type { FromTailWorker, ToTailWorker } from './tail-messages.ts';
import type { VerifiedMark } from './verified-mark.ts';
import { ADVANCE_LIMIT } from './verify-tail.ts';

/** Longer than any walk of ADVANCE_LIMIT records here (about half a second); then the worker is stopped. */
const EARN_TIMEOUT_MS = 60_000;

interface Pending {
  keyring: AuditKeyring;
  settle(mark: VerifiedMark | null): void;
}

/**
 * `earnedMark` on a worker thread (tail-worker.ts) over a read-only connection of its own. A
 * server's checkpoint walks every record appended since the last one, a second's worth (about
 * 2,000 at the peak here, 50 to 90 ms of work); on the thread that admits requests that walk was
 * the largest part of their latency at half the peak rate. The keyring stays on this thread: the
 * worker sends the sealed blobs back to be authenticated here.
 *
 * Fails quiet, as the in-thread walk does for the checkpoint writer: a walk that fails, a worker
 * that dies or hangs, all come to "no mark earned" (the mark stays where it is, the next
 * checkpoint tries again with a new worker); only `warden audit verify` reports findings.
 */
export class TailVerifier {
  #worker: Worker | null = null;
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(readonly path: string) {}

  earnedMark(keyring: AuditKeyring, limit = ADVANCE_LIMIT): Promise<VerifiedMark | null> {
    const worker = this.#started();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#stop(), EARN_TIMEOUT_MS);
      timer.unref();
      worker.ref();
      this.#pending.set(id, {
        keyring,
        settle: (mark) => {
          clearTimeout(timer);
          this.#pending.delete(id);
          if (this.#pending.size === 0) worker.unref();
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

  /** Stops the worker; walks under way come to no mark. */
  async close(): Promise<void> {
    await this.#stop();
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const entry = new URL(
      import.meta.url.endsWith('.ts') ? './tail-worker.ts' : './tail-worker.js',
      import.meta.url,
    );
    // Run from the sources (tests, a stale build), the worker registers tsx first: a thread does not
    // inherit the loader hooks of the one that starts it.
    const worker = entry.pathname.endsWith('.ts')
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
            .then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`,
          { eval: true },
        )
      : new Worker(entry);
    worker.on('message', (message: FromTailWorker) => void this.#onMessage(worker, message));
    worker.on('error', () => void this.#stop());
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      this.#settleAll();
    });
    // Held only while a walk is awaited (earnedMark refs it): an idle worker never keeps the
    // process alive. After the listeners, which would ref its port again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  async #onMessage(worker: Worker, message: FromTailWorker): Promise<void> {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    if (message.kind === 'earned') return pending.settle(message.mark);
    if (message.kind === 'failed') return pending.settle(null);
    let lengths: (number | null)[];
    try {
      const opened = await pending.keyring.decryptMany(message.items);
      lengths = opened.map((plain) => (plain ? plain.length : null));
      for (const plain of opened) wipe(plain);
    } catch {
      // The key could not be used (the vault sealed meanwhile): no walk can earn a mark now.
      return pending.settle(null);
    }
    const answer: ToTailWorker = { kind: 'opened', callId: message.callId, lengths };
    worker.postMessage(answer);
  }

  async #stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#settleAll();
    if (worker) await worker.terminate();
  }

  #settleAll(): void {
    for (const pending of [...this.#pending.values()]) pending.settle(null);
  }
}
