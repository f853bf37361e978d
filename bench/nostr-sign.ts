/**
 * Benchmark: policy-checked, audited Nostr signatures, in-process and over HTTP on loopback,
 * next to the raw signing rate of nostr-tools (the same library Warden signs with), measured in
 * the same run. Prints requests/s, p50/p99 latency, and each rate as a ratio of the raw one.
 *
 *   npm run bench                 # defaults
 *   BENCH_N=5000 npm run bench    # more requests per stage
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { finalizeEvent, generateSecretKey } from 'nostr-tools';
import { startHttpServer } from '../src/api/http/server.ts';
import { utf8 } from '../src/core/bytes.ts';
import { nullLogger } from '../src/core/logger.ts';
import { createTokenAudited, setPolicyAudited } from '../src/gateway/admin.ts';
import { Gateway } from '../src/gateway/gateway.ts';
import { loadSnapshot } from '../src/gateway/ledger.ts';
import { LedgerCache } from '../src/gateway/ledger-cache.ts';
import { authenticate } from '../src/gateway/tokens.ts';
import { Warden } from '../src/gateway/warden.ts';

const N = Number(process.env.BENCH_N ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** Two identities: one whose policy keeps a 24 h count window (the ledger snapshot grows with
 * use), one with a plain allow rule (no window to read). */
const POLICIES = {
  windowed: `
version: 1
name: bench-windowed
risk: { tolerance: high }
rules:
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
    limits:
      - { window: 24h, max_count: 100000000 }
`,
  plain: `
version: 1
name: bench-plain
risk: { tolerance: high }
rules:
  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }
`,
};

interface Stats {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `op` n times with `concurrency` in flight; returns throughput and latency percentiles. */
async function measure(
  name: string,
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown> | unknown,
): Promise<Stats> {
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
    name,
    perSecond: (n / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** One line per stage, each rate also as a ratio of `baseline` (measured in the same run). */
function printTable(ratioLabel: string, baseline: Stats, rows: Stats[]): void {
  const line = (cells: string[]) =>
    console.log(
      [
        cells[0]!.padEnd(58),
        cells[1]!.padStart(10),
        cells[2]!.padStart(9),
        cells[3]!.padStart(9),
        cells[4]!.padStart(9),
      ].join(''),
    );
  line(['stage', 'ops/s', 'p50 ms', 'p99 ms', ratioLabel]);
  for (const r of rows) {
    line([
      r.name,
      r.perSecond.toFixed(0),
      r.p50.toFixed(3),
      r.p99.toFixed(3),
      `${(r.perSecond / baseline.perSecond).toFixed(3)}x`,
    ]);
  }
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  try {
    const warden = await Warden.init(
      {
        home: join(root, 'home'),
        actor: 'bench',
        logger: nullLogger(),
        kdf: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
      },
      utf8('benchmark passphrase 2026'),
    );
    const gateway = new Gateway(warden, {
      logger: nullLogger(),
      rateLimits: () => ({ max: 10_000_000, windowMs: 60_000 }),
    });
    const handler = gateway.operations.get('nostr.sign_event');
    const agents: Record<string, { token: string; principal: Awaited<ReturnType<typeof authenticate>> }> = {};
    for (const [name, policy] of Object.entries(POLICIES)) {
      await warden.createIdentity(name);
      await setPolicyAudited(warden, name, policy);
      const { token } = await createTokenAudited(warden, {
        role: 'agent',
        identity: name,
        capabilities: ['nostr:sign'],
        label: name,
      });
      agents[name] = {
        token,
        principal: await authenticate(warden.store.db, `Bearer ${token}`, warden.clock),
      };
    }
    const { windowed, plain } = agents as Record<'windowed' | 'plain', (typeof agents)[string]>;
    const body = (i: number) => ({ kind: 1, content: `benchmark note ${i}`, tags: [['t', 'bench']] });

    const sk = generateSecretKey();
    // Warm-up, so JIT compilation is not measured.
    for (let i = 0; i < 200; i++) finalizeEvent({ ...body(i), created_at: 1 }, sk);
    await measure('warm-up', 200, 1, (i) => gateway.pipeline.submit(plain.principal, handler, body(i)));

    const raw = await measure('raw nostr-tools finalizeEvent', N, 1, (i) =>
      finalizeEvent({ ...body(i), created_at: 1_700_000_000 }, sk),
    );
    const submit = (agent: typeof plain) => (i: number) =>
      gateway.pipeline.submit(agent.principal, handler, body(i));
    const inProcessPlain = await measure('Warden in-process, allow rule', N, 1, submit(plain));
    const inProcess = await measure('Warden in-process, 24 h count window', N, 1, submit(windowed));
    const inProcessConcurrent = await measure(
      `Warden in-process, count window, ${CONCURRENCY} in flight`,
      N,
      CONCURRENCY,
      submit(windowed),
    );
    const server = await startHttpServer(gateway, { host: '127.0.0.1', port: 0 });
    const http = await measure(
      `Warden over HTTP on loopback, ${CONCURRENCY} in flight`,
      N,
      CONCURRENCY,
      async (i) => {
        const r = await fetch(`${server.url}/v1/nostr/sign`, {
          method: 'POST',
          headers: { authorization: `Bearer ${windowed.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body(i)),
        });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
        await r.arrayBuffer();
      },
    );
    await server.close();

    // The window snapshot alone, on the ledger the stages above filled: read afresh (what every
    // request did before the cache) against the per-budget cache that reads only what changed.
    const now = warden.clock.now();
    const intent = await handler.toIntent(
      handler.parse(body(0), now),
      gateway.operations.intentContext(handler, 'windowed'),
    );
    const since = new Date(now.getTime() - 24 * 3_600_000);
    const windowSize = (await warden.store.transaction((tx) => loadSnapshot(tx, intent, since, now))).entries
      .length;
    const snapshotRuns = Math.max(50, Math.floor(N / 10));
    const fresh = await measure(`snapshot of ${windowSize} entries, read afresh`, snapshotRuns, 1, () =>
      warden.store.transaction((tx) => loadSnapshot(tx, intent, since, now)),
    );
    const cache = new LedgerCache();
    const cached = await measure(`snapshot of ${windowSize} entries, ledger cache`, snapshotRuns, 1, () =>
      warden.store.transaction((tx) => cache.snapshot(tx, intent, since, now)),
    );
    await warden.close();

    console.log(`Nostr signing benchmark: ${N} operations per stage, Node ${process.version}`);
    console.log('(the count-window stages run after each other: their window holds all earlier signatures)');
    printTable('vs raw', raw, [raw, inProcessPlain, inProcess, inProcessConcurrent, http]);
    console.log('');
    console.log('Window snapshot inside a store transaction, on the ledger the stages above filled:');
    printTable('vs fresh', fresh, [fresh, cached]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
