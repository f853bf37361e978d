/**
 * The HTTP load generator, run in a worker thread: clients are other processes in real use, and
 * a client sharing the server's thread would bill its own work to the server. Closed loop
 * (`concurrency` requests in flight) or open loop (`perSecond` fixed arrivals).
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { StageResult } from './measure.ts';
import { measure } from './measure.ts';
import { measurePaced } from './paced.ts';

export interface HttpLoad {
  id: string;
  name: string;
  url: string;
  token: string;
  n: number;
  /** Closed loop when set. */
  concurrency?: number;
  /** Open loop when set. */
  perSecond?: number;
  /** GET this path instead of signing (the HTTP stack's own cost, with no work behind it). */
  getPath?: string;
}

/** Runs one HTTP stage in a worker thread and resolves with its result. */
export function runHttpLoad(load: HttpLoad): Promise<StageResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./http-load-worker.mjs', import.meta.url), { workerData: load });
    worker.once('message', (result: StageResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`HTTP load worker exited with ${code}`));
    });
  });
}

async function inWorker(load: HttpLoad): Promise<void> {
  let note = 0;
  const send = async () => {
    if (load.getPath !== undefined) {
      const r = await fetch(`${load.url}${load.getPath}`);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
      return;
    }
    const i = note++;
    const r = await fetch(`${load.url}/v1/nostr/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${load.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 1,
        content: `benchmark note ${i} ${performance.now()}`,
        tags: [['t', 'bench']],
      }),
    });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
  };
  const result =
    load.perSecond !== undefined
      ? await measurePaced(load.id, load.name, load.n, load.perSecond, send)
      : await measure(load.id, load.name, load.n, load.concurrency ?? 1, send);
  parentPort!.postMessage(result);
}

if (!isMainThread && parentPort) await inWorker(workerData as HttpLoad);
