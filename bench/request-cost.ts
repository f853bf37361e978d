/**
 * What one audited Nostr signature costs, in measures that depend little on the machine's load:
 * process CPU time per request and SQLite pages written per request (WAL frames, with SQLite's
 * auto-checkpoint off so that every frame stays in the file to be counted), and which table or
 * index each written page belongs to. The throughput stages give rates; this says where they go.
 * `npm run bench` runs it as the `nostr.cost.*` stages (the numbers in their notes); alone:
 *
 *   node --import tsx bench/request-cost.ts            # 64 and 1 in flight, by table and index
 *   BENCH_N=500 node --import tsx bench/request-cost.ts --json --concurrency 64
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { createTokenAudited, setPolicyAudited } from '../src/gateway/admin.ts';
import { authenticate } from '../src/gateway/tokens.ts';
import { nostrNotesPolicy } from '../test/helpers/policies.ts';
import { startBenchWarden } from './bench-warden.ts';
import { type BenchOptions, measure, type StageResult } from './measure.ts';

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** The page number of every frame in the WAL from byte `from` on. */
function walFramePages(walPath: string, pageSize: number, from: number): number[] {
  const size = statSync(walPath).size;
  const fd = openSync(walPath, 'r');
  const header = Buffer.alloc(4);
  const pages: number[] = [];
  try {
    for (
      let at = Math.max(from, WAL_HEADER);
      at + FRAME_HEADER + pageSize <= size;
      at += FRAME_HEADER + pageSize
    ) {
      readSync(fd, header, 0, 4, at);
      pages.push(header.readUInt32BE(0));
    }
  } finally {
    closeSync(fd);
  }
  return pages;
}

/** Page number → the table or index it belongs to, from SQLite's dbstat (read off the WAL too). */
function pageOwners(dbPath: string): Map<number, string> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[];
    return new Map(rows.map((r) => [r.pageno, r.name]));
  } finally {
    db.close();
  }
}

interface Cost {
  stage: StageResult;
  concurrency: number;
  cpuUsPerRequest: number;
  walPagesPerRequest: number;
  /** Pages written per request, by table or index, largest first. */
  pagesByOwner: Record<string, number>;
}

async function costAt(concurrency: number, n: number): Promise<Cost> {
  const root = mkdtempSync(join(tmpdir(), 'warden-cost-'));
  try {
    const { warden, gateway } = await startBenchWarden(root);
    await warden.createIdentity('cost');
    await setPolicyAudited(warden, 'cost', nostrNotesPolicy('bench-cost', 100_000_000));
    const { token } = await createTokenAudited(warden, {
      role: 'agent',
      identity: 'cost',
      capabilities: ['nostr:sign'],
      label: 'cost',
    });
    const principal = await authenticate(warden.store.db, `Bearer ${token}`, warden.clock);
    const handler = gateway.operations.get('nostr.sign_event');
    const submit = async (i: number) => {
      const view = await gateway.pipeline.submit(principal, handler, {
        kind: 1,
        content: `cost note ${i}`,
        tags: [['t', 'bench']],
      });
      if (view.status !== 'done') throw new Error(`request ended ${view.status}`);
    };
    await measure('warm-up', 'warm-up', 300, concurrency, submit);
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(warden.store.db);
    await sql`PRAGMA wal_autocheckpoint = 0`.execute(warden.store.db);
    const { page_size: pageSize } = (
      await sql<{ page_size: number }>`PRAGMA page_size`.execute(warden.store.db)
    ).rows[0]!;
    const walPath = `${warden.layout.database}-wal`;
    const walStart = statSync(walPath).size;
    const cpu0 = process.cpuUsage();
    const stage = await measure('cost', 'cost', n, concurrency, submit);
    const cpu = process.cpuUsage(cpu0);
    await gateway.drain();
    const pages = walFramePages(walPath, pageSize, walStart);
    const owners = pageOwners(warden.layout.database);
    const byOwner = new Map<string, number>();
    for (const p of pages) {
      const owner = owners.get(p) ?? '(freed or new)';
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
    }
    await warden.close();
    return {
      stage,
      concurrency,
      cpuUsPerRequest: Math.round((cpu.user + cpu.system) / n),
      walPagesPerRequest: +(pages.length / n).toFixed(2),
      pagesByOwner: Object.fromEntries(
        [...byOwner].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +(v / n).toFixed(2)]),
      ),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The bench stages: 64 and 1 in flight, the costs per request in their notes. */
export async function requestCostStages(options: BenchOptions): Promise<StageResult[]> {
  const stages: StageResult[] = [];
  for (const c of [64, 1]) {
    const cost = await costAt(c, options.n);
    stages.push({
      ...cost.stage,
      id: `nostr.cost.window.c${c}`,
      name: `cost per request, count window, ${c} in flight (WAL kept)`,
      notes: { cpuUsPerRequest: cost.cpuUsPerRequest, walPagesPerRequest: cost.walPagesPerRequest },
    });
  }
  return stages;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      concurrency: { type: 'string', multiple: true, default: ['64', '1'] },
    },
  });
  const n = Number(process.env.BENCH_N ?? 2000);
  const costs: Cost[] = [];
  for (const c of values.concurrency) costs.push(await costAt(Number(c), n));
  const shown = costs.map(({ stage, ...cost }) => ({
    ...cost,
    opsPerSecond: Math.round(stage.opsPerSecond),
  }));
  if (values.json) {
    console.log(JSON.stringify({ costs: shown }));
    return;
  }
  for (const c of shown) {
    console.log(
      `${c.concurrency} in flight: ${c.opsPerSecond}/s, ${c.cpuUsPerRequest} µs CPU and ${c.walPagesPerRequest} WAL pages per request`,
    );
    for (const [owner, perRequest] of Object.entries(c.pagesByOwner))
      console.log(`  ${owner.padEnd(40)} ${perRequest}`);
  }
}

// Run alone (not imported by bench/run.ts).
if (import.meta.url === `file://${process.argv[1]}`) await main();
