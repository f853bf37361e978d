/**
 * Policy-checked, audited Nostr signatures: in process at 1, 8 and 64 in flight, and over HTTP on
 * loopback (the clients in a worker thread, as other processes would be), next to the raw rates they are compared with (libsecp256k1 `signSchnorr`, the
 * baseline; nostr-tools `finalizeEvent`, what Warden signed with before), measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { finalizeEvent, generateSecretKey, verifyEvent } from 'nostr-tools';
import { signSchnorr } from 'tiny-secp256k1';
import { startHttpServer } from '../src/api/http/server.ts';
import { createTokenAudited, setPolicyAudited } from '../src/gateway/admin.ts';
import { authenticate } from '../src/gateway/tokens.ts';
import { nostrNotesPolicy } from '../test/helpers/policies.ts';
import { startBenchWarden } from './bench-warden.ts';
import { runHttpLoad } from './http-load.ts';
import { type BenchOptions, measure, type StageResult } from './measure.ts';

export const RAW_STAGE = 'raw.libsecp256k1';

/** One identity with a plain allow rule (no window to read), one with a 24 h count window. */
const POLICIES = {
  windowed: nostrNotesPolicy('bench-windowed', 100_000_000),
  plain: `
version: 1
name: bench-plain
risk: { tolerance: high }
rules:
  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }
`,
};

const body = (i: number) => ({ kind: 1, content: `benchmark note ${i}`, tags: [['t', 'bench']] });

/** The raw rates; `only: RAW_STAGE` measures the baseline alone (again at the end of a run). */
export async function rawStages(options: BenchOptions & { only?: string }): Promise<StageResult[]> {
  const sk = generateSecretKey();
  const digest = new Uint8Array(32);
  for (let i = 0; i < 500; i++) signSchnorr(digest, sk); // warm-up: no JIT or WASM tier-up measured
  const raw = await measure(RAW_STAGE, 'raw libsecp256k1 signSchnorr (baseline)', options.n, 1, (i) => {
    digest[0] = i & 0xff;
    digest[1] = (i >> 8) & 0xff;
    return signSchnorr(digest, sk);
  });
  if (options.only === RAW_STAGE) return [raw];
  for (let i = 0; i < 100; i++) finalizeEvent({ ...body(i), created_at: 1 }, sk);
  const nostrTools = await measure('raw.nostr_tools', 'raw nostr-tools finalizeEvent', options.n, 1, (i) =>
    finalizeEvent({ ...body(i), created_at: 1_700_000_000 }, sk),
  );
  return [raw, nostrTools, await rawCommitStage(options)];
}

/**
 * One small row per transaction, with the store's settings (WAL, synchronous=FULL): the fsync that
 * every commit waits for, which bounds what one request in flight can reach.
 */
async function rawCommitStage(options: BenchOptions): Promise<StageResult> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-commit-'));
  const db = new Database(join(dir, 'commit.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const commit = db.transaction((i: number) => insert.run(`row ${i}`));
    return await measure(
      'raw.sqlite_commit',
      'raw SQLite commit of one row (WAL, synchronous=FULL)',
      Math.min(options.n, 1000),
      1,
      (i) => commit(i),
    );
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function nostrSignStages(options: BenchOptions): Promise<StageResult[]> {
  const N = options.n;
  const root = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  try {
    const { warden, gateway } = await startBenchWarden(root);
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
    const submit = (agent: typeof plain) => async (i: number) => {
      const view = await gateway.pipeline.submit(agent.principal, handler, body(i));
      if (view.status !== 'done') throw new Error(`request ended ${view.status}`);
      return view;
    };
    // Warm-up, so JIT compilation is not measured; and a check that what is measured is real.
    const sample = await submit(plain)(0);
    if (!verifyEvent((sample.result as { event: Parameters<typeof verifyEvent>[0] }).event))
      throw new Error('a signature Warden returned does not verify');
    await measure('warm-up', 'warm-up', 300, 8, submit(plain));

    const stages: StageResult[] = [];
    stages.push(
      await measure('nostr.in_process.plain.c1', 'in process, allow rule, 1 in flight', N, 1, submit(plain)),
    );
    for (const c of [1, 8, 64]) {
      stages.push(
        await measure(
          `nostr.in_process.window.c${c}`,
          `in process, 24 h count window, ${c} in flight`,
          N,
          c,
          submit(windowed),
        ),
      );
    }
    const server = await startHttpServer(gateway, { host: '127.0.0.1', port: 0 });
    const http = { url: server.url, token: windowed.token };
    await runHttpLoad({ ...http, id: 'warm-up', name: 'warm-up', n: 300, concurrency: 8 });
    for (const c of [1, 8, 64]) {
      stages.push(
        await runHttpLoad({
          ...http,
          id: `nostr.http.window.c${c}`,
          name: `HTTP on loopback, count window, ${c} in flight`,
          n: N,
          concurrency: c,
        }),
      );
    }
    const peak = Math.max(...stages.filter((s) => s.id.startsWith('nostr.http.')).map((s) => s.opsPerSecond));
    stages.push(
      await runHttpLoad({
        ...http,
        id: 'nostr.http.window.half_peak',
        name: 'HTTP on loopback, count window, at half the peak rate',
        n: N,
        perSecond: peak / 2,
      }),
    );
    // The floor: what the HTTP stack and these clients cost with nothing behind the route.
    stages.push(
      await runHttpLoad({
        ...http,
        id: 'http.floor.health.c64',
        name: 'HTTP on loopback, GET /v1/health (no work), 64 in flight',
        n: N,
        concurrency: 64,
        getPath: '/v1/health',
      }),
    );
    await server.close();
    await gateway.drain();
    await warden.close();
    return stages;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
