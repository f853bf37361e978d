import { performance } from 'node:perf_hooks';
import type { StageResult } from './measure.ts';

/**
 * Open-loop load: `n` requests started at a fixed rate whatever the answers do (as independent
 * clients would send them), so latency is measured at that rate rather than at saturation.
 */
export async function measurePaced(
  id: string,
  name: string,
  n: number,
  perSecond: number,
  op: (i: number) => Promise<unknown>,
): Promise<StageResult> {
  const latencies: number[] = [];
  const running: Promise<void>[] = [];
  const interval = 1000 / perSecond;
  const start = performance.now();
  let started = 0;
  while (started < n) {
    const due = Math.min(n, Math.floor((performance.now() - start) / interval) + 1);
    for (; started < due; started++) {
      const i = started;
      const t0 = start + i * interval;
      running.push(
        op(i).then(() => {
          latencies.push(performance.now() - t0);
        }),
      );
    }
    // Sleep until the next one is due (answers arrive meanwhile): a client spinning on
    // setImmediate would take one of the two cores from the server it measures.
    const nextDue = start + started * interval;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextDue - performance.now())));
  }
  await Promise.all(running);
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  return {
    id,
    name,
    n,
    concurrency: 0,
    opsPerSecond: (n / elapsed) * 1000,
    p50Ms: at(50),
    p99Ms: at(99),
    notes: { targetPerSecond: Math.round(perSecond) },
  };
}
