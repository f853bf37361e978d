import type { Worker } from 'node:worker_threads';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { siblingModule, startModuleWorker } from '../core/module-worker.ts';
import type { FromSchnorrWorker, ToSchnorrWorker } from './schnorr-messages.ts';

export interface SchnorrThreadOptions {
  /** How long a job may wait for its signature (default 10 s); then the worker is stopped. */
  timeoutMs?: number;
  /** The worker's script: tests give another one. */
  entry?: URL;
}

interface Job {
  resolve(signature: Uint8Array): void;
  reject(error: WardenError): void;
  timer: NodeJS.Timeout;
}

/** Jobs sent together to a busy worker. */
const JOBS_PER_MESSAGE = 8;

const failed = (message: string) => new WardenError('SIGNING_FAILED', message);

/**
 * BIP-340 signatures on a worker thread (schnorr-worker.ts), so that the thread admitting requests
 * judges and records the next ones while libsecp256k1 signs (a third of a request's time there at
 * 64 in flight). The worker starts at the first job and holds the process open only while a job
 * waits for it.
 *
 * Each job moves a copy of the secret key to the worker (a transfer: this thread keeps no copy of
 * it), which wipes it once it has signed. Jobs asked in one turn go in one message, as do their
 * answers. A worker that fails, exits or does not answer in time fails every job it holds
 * (SIGNING_FAILED: nothing signed was released) and is replaced at the next job.
 */
export class SchnorrThread {
  #worker: Worker | null = null;
  #nextId = 0;
  readonly #jobs = new Map<number, Job>();
  #outbox: ToSchnorrWorker = [];
  #transfers: ArrayBuffer[] = [];

  constructor(private readonly options: SchnorrThreadOptions = {}) {}

  /**
   * The signature of the 32-byte `digest` by `secret`. The caller keeps its own `secret` (and
   * wipes it as usual); a copy goes to the worker. Rejects with SIGNING_FAILED.
   */
  sign(digest: Uint8Array, secret: Uint8Array): Promise<Uint8Array> {
    if (digest.length !== 32 || secret.length !== 32)
      return Promise.reject(new WardenError('INVALID_ARGUMENT', 'a Schnorr job is a 32-byte digest and key'));
    const worker = this.#started();
    const id = this.#nextId++;
    const digestCopy = new Uint8Array(digest);
    const secretCopy = new Uint8Array(secret);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.#stop(worker, 'the signing thread did not answer in time');
      }, this.options.timeoutMs ?? 10_000);
      timer.unref();
      this.#jobs.set(id, { resolve, reject, timer });
      worker.ref();
      this.#outbox.push({ id, digest: digestCopy.buffer, secret: secretCopy.buffer });
      this.#transfers.push(digestCopy.buffer, secretCopy.buffer);
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
    if (this.#worker) await this.#stop(this.#worker, 'the signing thread was stopped');
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
      // Not moved (the worker stopped meanwhile): the copies are wiped here, their jobs fail.
      for (const job of jobs) {
        wipe(new Uint8Array(job.secret));
        this.#settle(job.id, failed('the signing thread is not running'));
      }
    }
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startModuleWorker(this.options.entry ?? siblingModule(import.meta.url, 'schnorr-worker'));
    worker.on('message', (answers: FromSchnorrWorker) => this.#onAnswers(worker, answers));
    worker.on('error', () => void this.#stop(worker, 'the signing thread failed'));
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      this.#failAll(worker, 'the signing thread stopped');
    });
    // Held only while a job waits (sign refs it). After the listeners, which would ref it again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #onAnswers(worker: Worker, answers: FromSchnorrWorker): void {
    if (!Array.isArray(answers)) return void this.#stop(worker, 'the signing thread answered nonsense');
    for (const answer of answers) {
      const signed =
        'signature' in answer && answer.signature instanceof Uint8Array && answer.signature.length === 64;
      this.#settle(answer?.id, signed ? answer.signature : failed('the event could not be signed'));
    }
    if (this.#jobs.size === 0) worker.unref();
  }

  #settle(id: number, outcome: Uint8Array | WardenError): void {
    const job = this.#jobs.get(id);
    if (!job) return;
    this.#jobs.delete(id);
    clearTimeout(job.timer);
    if (outcome instanceof WardenError) job.reject(outcome);
    else job.resolve(outcome);
  }

  /** Every job fails; jobs are only ever held by the one current worker. */
  #failAll(worker: Worker, message: string): void {
    if (this.#worker !== null && this.#worker !== worker) return;
    for (const id of [...this.#jobs.keys()]) this.#settle(id, failed(message));
  }

  async #stop(worker: Worker, message: string): Promise<void> {
    if (this.#worker === worker) this.#worker = null;
    this.#failAll(worker, message);
    await worker.terminate();
  }
}
