/**
 * The worker thread of schnorr-thread.ts: BIP-340 signatures by libsecp256k1, off the thread
 * that admits requests. Each job brings its own copy of the secret key in a shared slot, wiped
 * here as soon as the signature is made, whatever happened (and by the sending thread when the
 * job settles). Nothing is kept between jobs, and nothing but signatures goes back.
 */
import { parentPort } from 'node:worker_threads';
import { wipe } from '../core/bytes.ts';
import { signSchnorrDigest } from './schnorr.ts';
import type { FromSchnorrWorker, ToSchnorrWorker } from './schnorr-messages.ts';

const port = parentPort;
if (!port) throw new Error('schnorr-worker.ts runs only as a worker thread');

// Answers wait for the end of the messages at hand: one message back for a batch's jobs.
let answers: FromSchnorrWorker = [];

port.on('message', (jobs: ToSchnorrWorker) => {
  if (answers.length === 0)
    setImmediate(() => {
      port.postMessage(answers);
      answers = [];
    });
  for (const job of jobs) {
    const secret = new Uint8Array(job.secret);
    try {
      const signature = signSchnorrDigest(new Uint8Array(job.digest), secret);
      answers.push({ id: job.id, signature });
    } catch {
      // That it failed, nothing more: an error's message could one day quote what it was given.
      answers.push({ id: job.id, failed: true });
    } finally {
      wipe(secret);
    }
  }
});
