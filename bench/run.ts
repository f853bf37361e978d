/**
 * `npm run bench`: every stage, each rate also as a ratio of the raw libsecp256k1 signing rate
 * measured in the same run (the machine is shared and noisy; ratios compare across runs).
 *
 *   npm run bench                   # the table
 *   npm run bench -- --json         # one JSON object with every stage, for scripts
 *   npm run bench -- --only nostr   # only stages whose id starts with one of the given prefixes
 *   BENCH_N=5000 npm run bench      # more operations per throughput stage (default 2000)
 *   BENCH_BUDGET_ENTRIES=100000     # entries in the budget stages' windows (default 1,000,000)
 *   BENCH_AUDIT_RECORDS=100000      # records in the audit start-up stages' log (default 1,000,000)
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { auditStartStages } from './audit-start.ts';
import { budgetCheckStages } from './budget-check.ts';
import { cliStartStages } from './cli-start.ts';
import type { BenchOptions, StageResult } from './measure.ts';
import { nostrSignStages, RAW_STAGE, rawStages } from './nostr-sign.ts';
import { psbtSignStages } from './psbt-sign.ts';
import { requestCostStages } from './request-cost.ts';

type StageGroup = { prefix: string; run: (options: BenchOptions) => Promise<StageResult[]> };

const GROUPS: StageGroup[] = [
  { prefix: 'nostr', run: nostrSignStages },
  { prefix: 'nostr.cost', run: requestCostStages },
  { prefix: 'bitcoin', run: psbtSignStages },
  { prefix: 'budget', run: budgetCheckStages },
  { prefix: 'cli', run: cliStartStages },
  { prefix: 'audit', run: auditStartStages },
];

function table(stages: (StageResult & { ratioToRaw: number })[]): string {
  const rows = [['stage', 'ops/s', 'p50 ms', 'p99 ms', 'vs raw']];
  for (const s of stages) {
    rows.push([
      s.name,
      s.opsPerSecond.toFixed(0),
      s.p50Ms.toFixed(3),
      s.p99Ms.toFixed(3),
      `${s.ratioToRaw.toFixed(3)}x`,
      s.notes
        ? Object.entries(s.notes)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`)
            .join(' ')
        : '',
    ]);
  }
  return rows
    .map((r) =>
      [
        r[0]!.padEnd(60),
        // A space before each column, however wide its number.
        ...r.slice(1, 5).map((c, i) => ` ${c}`.padStart(i === 0 ? 10 : 9)),
        `  ${r[5] ?? 'notes'}`,
      ].join(''),
    )
    .join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, only: { type: 'string', multiple: true } },
  });
  const options: BenchOptions = { n: Number(process.env.BENCH_N ?? 2000) };
  const wanted = (prefix: string) =>
    !values.only || values.only.some((o) => prefix.startsWith(o) || o.startsWith(prefix));
  const stages = await rawStages(options);
  for (const group of GROUPS) if (wanted(group.prefix)) stages.push(...(await group.run(options)));
  // The baseline again at the end: the machine's speed drifts over a long run, and the ratios use
  // the mean of both (each stays in the report).
  const [rawAfter] = await rawStages({ ...options, only: RAW_STAGE });
  const rawBefore = stages.find((s) => s.id === RAW_STAGE)!;
  stages.push({ ...rawAfter!, id: `${RAW_STAGE}.after`, name: `${rawAfter!.name}, again at the end` });
  const baseline = (rawBefore.opsPerSecond + rawAfter!.opsPerSecond) / 2;
  const withRatios = stages.map((s) => ({ ...s, ratioToRaw: s.opsPerSecond / baseline }));
  if (values.json) {
    const report = {
      bench: 'warden',
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      n: options.n,
      baseline: RAW_STAGE,
      baselineOpsPerSecond: baseline,
      stages: withRatios,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    console.log(
      `Warden benchmark: ${options.n} operations per throughput stage, Node ${process.version}; ` +
        `ratios to the mean raw rate, ${baseline.toFixed(0)}/s (start and end of the run)`,
    );
    console.log(table(withRatios));
  }
}

await main();
