import type { Worker } from 'node:worker_threads';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { siblingModule, startModuleWorker } from '../core/module-worker.ts';
import type { FromSchnorrWorker, ToSchnorrWorker } from './schnorr-messages.ts';

export interface SchnorrThreadOptions {
  /**
   * How long a job may wait for its signature (default 2 s, the worker's start included); then
   * the worker is stopped. Its callers hold a write transaction meanwhile, so well below the
   * store's 10 s busy timeout.
   */
  timeoutMs?: number;
  /** Told when the worker fails, so that a thread that keeps failing is seen. */
  log?: (message: string) => void;
  /** The worker's script: tests give another one. */
  entry?: URL;
}

interface Job {
  resolve(signature: Uint8Array): void;
  reject(error: WardenError): void;
  timer: NodeJS.Timeout;
  /** The key's copy the worker reads: wiped here when the job settles, whatever happened. */
  secret: Uint8Array;
}

/** Jobs sent together to a busy worker. */
const JOBS_PER_MESSAGE = 8;
/** How long after a worker failed the thread is not `healthy`. */
const UNHEALTHY_MS = 30_000;

const failed = (message: string) => new WardenError('SIGNING_FAILED', message);

/**
 * BIP-340 signatures on a worker thread (schnorr-worker.ts), so that the thread admitting requests
 * judges and records the next ones while libsecp256k1 signs (a third of a request's time there at
 * 64 in flight). The worker starts at the first job and holds the process open only while a job
 * waits for it.
 *
 * Each job copies the key into a shared slot of its own, which the worker wipes once it signed
 * and this thread wipes again when the job settles: a worker stopped mid-job leaves no copy
 * behind. A worker that fails, exits, answers nonsense or does not answer in time fails every job
 * it holds (SIGNING_FAILED: nothing signed was released), is replaced at the next job, and leaves
 * the thread not `healthy` for a while, so callers sign on their own thread meanwhile.
 */
export class SchnorrThread {
  #worker: Worker | null = null;
  #nextId = 0;
  #failedAt = Number.NEGATIVE_INFINITY;
  readonly #jobs = new Map<number, Job>();
  #outbox: ToSchnorrWorker = [];
  #transfers: ArrayBuffer[] = [];

  constructor(private readonly options: SchnorrThreadOptions = {}) {}

  /** False for a while after a worker failed (not after `close`). */
  get healthy(): boolean {
    return performance.now() - this.#failedAt > UNHEALTHY_MS;
  }

  /**
   * The signature of the 32-byte `digest` by `secret`. The caller keeps its own `secret` (and
   * wipes it as usual); a copy goes to the worker. Rejects with SIGNING_FAILED, never throws.
   */
  sign(digest: Uint8Array, secret: Uint8Array): Promise<Uint8Array> {
    if (digest.length !== 32 || secret.length !== 32)
      return Promise.reject(new WardenError('INVALID_ARGUMENT', 'a Schnorr job is a 32-byte digest and key'));
    let worker: Worker;
    try {
      worker = this.#started();
    } catch (err) {
      this.#failed(`the signing thread cannot start: ${(err as Error).message}`);
      return Promise.reject(failed('the signing thread cannot start'));
    }
    const id = this.#nextId++;
    const digestCopy = new Uint8Array(digest);
    const slot = new SharedArrayBuffer(32);
    const secretCopy = new Uint8Array(slot);
    secretCopy.set(secret);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.#stop(worker, 'the signing thread did not answer in time', true);
      }, this.options.timeoutMs ?? 2_000);
      timer.unref();
      this.#jobs.set(id, { resolve, reject, timer, secret: secretCopy });
      worker.ref();
      this.#outbox.push({ id, digest: digestCopy.buffer, secret: slot });
      this.#transfers.push(digestCopy.buffer);
      // A batch's units are judged here while the worker signs the ones before: an idle worker
      // gets its job at once, a busy one a message per few jobs (a message costs about a tenth
      // of a signature here), the rest when this turn's synchronous run ends.
      const idle = this.#jobs.size === this.#outbox.length;
      if (idle || this.#outbox.length >= JOBS_PER_MESSAGE) this.#flush();
      else if (this.#outbox.length === 1) queueMicrotask(() => this.#flush());
    });
  }

  /** Stops the worker (the jobs it holds fail); a job asked later starts a new one. */
  async close(): Promise<void> {
    if (this.#worker) await this.#stop(this.#worker, 'the signing thread was stopped', false);
  }

  #flush(): void {
    if (this.#outbox.length === 0) return;
    const jobs = this.#outbox;
    const transfers = this.#transfers;
    this.#outbox = [];
    this.#transfers = [];
    const worker = this.#worker;
    try {
      if (!worker) throw failed('the signing thread is not running');
      worker.postMessage(jobs, transfers);
    } catch {
      for (const job of jobs) this.#settle(job.id, failed('the signing thread is not running'));
    }
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startModuleWorker(this.options.entry ?? siblingModule(import.meta.url, 'schnorr-worker'));
    worker.on('message', (answers: FromSchnorrWorker) => this.#onAnswers(worker, answers));
    worker.on('error', (err) => void this.#stop(worker, `the signing thread failed: ${err.message}`, true));
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return; // stopped here: told already
      this.#worker = null;
      this.#failed(`the signing thread exited (code ${code})`);
      this.#failAll('the signing thread stopped');
    });
    // Held only while a job waits (sign refs it). After the listeners, which would ref it again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #onAnswers(worker: Worker, answers: FromSchnorrWorker): void {
    if (!Array.isArray(answers)) return void this.#stop(worker, 'the signing thread answered nonsense', true);
    for (const answer of answers) {
      const refused = typeof answer === 'object' && answer !== null && 'failed' in answer;
      const signature =
        typeof answer === 'object' && answer !== null && 'signature' in answer ? answer.signature : null;
      // A refusal is the signature's (a key libsecp256k1 will not use); anything else is the worker's.
      if (refused) this.#settle(answer.id, failed('the event could not be signed'));
      else if (signature instanceof Uint8Array && signature.length === 64) this.#settle(answer.id, signature);
      else return void this.#stop(worker, 'the signing thread answered nonsense', true);
    }
    if (this.#jobs.size === 0) worker.unref();
  }

  #settle(id: number, outcome: Uint8Array | WardenError): void {
    const job = this.#jobs.get(id);
    if (!job) return;
    this.#jobs.delete(id);
    clearTimeout(job.timer);
    wipe(job.secret);
    if (outcome instanceof WardenError) job.reject(outcome);
    else job.resolve(outcome);
  }

  /** Every job fails: jobs are only ever held by the one current worker and its outbox. */
  #failAll(message: string): void {
    this.#outbox = [];
    this.#transfers = [];
    for (const id of [...this.#jobs.keys()]) this.#settle(id, failed(message));
  }

  #failed(message: string): void {
    this.#failedAt = performance.now();
    this.options.log?.(message);
  }

  async #stop(worker: Worker, message: string, isFailure: boolean): Promise<void> {
    if (this.#worker !== worker) return;
    this.#worker = null;
    if (isFailure) this.#failed(message);
    this.#failAll(message);
    await worker.terminate();
  }
}
