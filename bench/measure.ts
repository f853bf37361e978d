/**
 * What every benchmark stage reports, and the one way stages are timed. Rates are compared as
 * ratios against a baseline measured in the same run (the machine is shared and noisy).
 */
import { performance } from 'node:perf_hooks';

export interface StageResult {
  /** Stable identifier for scripts comparing runs (`nostr.in_process.window.c64`). */
  id: string;
  /** What the stage measures, for the table. */
  name: string;
  /** Operations timed. */
  n: number;
  /** Requests in flight at once (1 for sequential stages). */
  concurrency: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Wall time of one run for stages that time a single event (a CLI start); null otherwise. */
  wallMs?: number | null;
  /** Extra numbers a stage wants on record (entries in the window, memory); strings or numbers only. */
  notes?: Record<string, string | number>;
}

export interface BenchOptions {
  /** Operations per throughput stage. */
  n: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `op` n times with `concurrency` in flight; returns throughput and latency percentiles. */
export async function measure(
  id: string,
  name: string,
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown> | unknown,
): Promise<StageResult> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    id,
    name,
    n,
    concurrency,
    opsPerSecond: (n / elapsed) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** Times one event (a process start) `runs` times; the stage's wall time is the median. */
export async function measureWall(
  id: string,
  name: string,
  runs: number,
  op: () => Promise<unknown>,
): Promise<StageResult> {
  const stage = await measure(id, name, runs, 1, op);
  return { ...stage, wallMs: stage.p50Ms };
}
