/**
 * The HTTP load generator, run in a worker thread: clients are other processes in real use, and
 * a client sharing the server's thread would bill its own work to the server. Closed loop
 * (`concurrency` requests in flight) or open loop (`perSecond` fixed arrivals).
 */
import { Agent, request as httpRequest } from 'node:http';
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

/**
 * One HTTP request on a keep-alive connection of `agent`, resolving with the status and body.
 * node:http, not fetch: on two shared cores a client's own cost lands on the server's numbers,
 * and fetch spends about twice the CPU per request (measured with a bare node:http server).
 */
function request(
  agent: Agent,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function inWorker(load: HttpLoad): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: load.concurrency ?? Number.POSITIVE_INFINITY });
  let note = 0;
  const send = async () => {
    if (load.getPath !== undefined) {
      const r = await request(agent, new URL(`${load.url}${load.getPath}`), 'GET', {});
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text}`);
      return;
    }
    const i = note++;
    const body = JSON.stringify({
      kind: 1,
      content: `benchmark note ${i} ${performance.now()}`,
      tags: [['t', 'bench']],
    });
    const r = await request(
      agent,
      new URL(`${load.url}/v1/nostr/sign`),
      'POST',
      {
        authorization: `Bearer ${load.token}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    );
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text}`);
  };
  const result =
    load.perSecond !== undefined
      ? await measurePaced(load.id, load.name, load.n, load.perSecond, send)
      : await measure(load.id, load.name, load.n, load.concurrency ?? 1, send);
  agent.destroy();
  parentPort!.postMessage(result);
}

if (!isMainThread && parentPort) await inWorker(workerData as HttpLoad);
