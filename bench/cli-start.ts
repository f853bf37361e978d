/**
 * How fast `warden` starts, as users run it (a real process, the compiled CLI): `--help`, and
 * read-only commands on a fresh home with a cheap KDF (`config check`, no passphrase; `status`:
 * unseal, read the vault, verify the audit chain), next to `node -e 0` measured in the same run so the numbers read as ratios on
 * a noisy machine. The KDF's own time (argon2id with the same parameters, in process) is in the
 * notes, so "the command costs X plus the KDF" can be read off.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import argon2 from 'argon2';
import { buildIsCurrent } from '../bin/build-stamp.js';
import { type BenchOptions, measureWall, type StageResult } from './measure.ts';

const WARDEN = fileURLToPath(new URL('../bin/warden.js', import.meta.url));
/** The cheap KDF of the tests: 8 MiB, one pass. */
const KDF = { memoryMiB: 8, iterations: 1 };
/** Process starts per stage; each stage's wall time is their median. */
const MAX_RUNS = 10;

function exec(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

/** argon2id as the vault runs it, in this process: the KDF part of an unseal. */
async function kdfMs(runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await argon2.hash(Buffer.from('bench passphrase, not a secret'), {
      type: argon2.argon2id,
      memoryCost: KDF.memoryMiB * 1024,
      timeCost: KDF.iterations,
      parallelism: 1,
      salt: Buffer.alloc(16, 7),
      hashLength: 32,
      raw: true,
    });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export async function cliStartStages(options: BenchOptions): Promise<StageResult[]> {
  if (!buildIsCurrent()) throw new Error('dist/ is not the build of src/: run `npm run build` first');
  const runs = Math.max(1, Math.min(options.n, MAX_RUNS));
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-cli-'));
  try {
    const home = join(dir, 'home');
    const pass = join(dir, 'pass');
    writeFileSync(pass, 'bench vault passphrase 4 words\n', { mode: 0o600 });
    const kdfFlags = ['--kdf-memory', String(KDF.memoryMiB), '--kdf-iterations', String(KDF.iterations)];
    await exec([WARDEN, '--home', home, 'init', '--passphrase-file', pass, ...kdfFlags]);

    const empty = await measureWall('cli.node_empty', 'node -e 0 (baseline)', runs, () => exec(['-e', '0']));
    const help = await measureWall('cli.help', 'warden --help', runs, () => exec([WARDEN, '--help']));
    const configCheck = await measureWall('cli.config_check', 'warden config check', runs, () =>
      exec([WARDEN, '--home', home, 'config', 'check']),
    );
    const readOnly = await measureWall('cli.read_only', 'warden status (8 MiB KDF)', runs, () =>
      exec([WARDEN, '--home', home, 'status', '--passphrase-file', pass]),
    );
    const kdf = await kdfMs(runs);
    const base = empty.wallMs!;
    const ratio = (s: StageResult) => `${(s.wallMs! / base).toFixed(1)}x node_empty`;
    help.notes = { vsNodeEmpty: ratio(help) };
    readOnly.notes = {
      vsNodeEmpty: ratio(readOnly),
      kdfMs: round(kdf),
      kdf: `argon2id ${KDF.memoryMiB} MiB, ${KDF.iterations} iteration(s), in process`,
      withoutKdfMs: round(readOnly.wallMs! - kdf),
    };
    configCheck.notes = { vsNodeEmpty: ratio(configCheck), kdf: 'none (no vault passphrase)' };
    return [empty, help, configCheck, readOnly];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
