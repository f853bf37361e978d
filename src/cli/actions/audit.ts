import type { Command } from 'commander';
import { WardenError } from '../../core/errors.ts';
import { parseDuration, verifyAuditSealed } from '../../gateway/vault-api.ts';
import type { CliContext } from '../context.ts';
import { hasPassphraseSource } from '../passphrase.ts';
import { vaultPassphrase, withUnsealedWarden } from './shared.ts';

/** `--since` takes an ISO-8601 time or a duration back from now such as 30m, 24h, 7d. */
export function parseSince(value: string, now: Date): Date {
  const duration = parseDuration(value);
  if (duration !== null) return new Date(now.getTime() - duration);
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const t = Date.parse(value);
    if (Number.isFinite(t)) return new Date(t);
  }
  throw new WardenError(
    'USAGE',
    '--since takes an ISO time (2026-01-31T12:00:00Z) or a duration (30m, 24h, 7d)',
  );
}

type Verification = Awaited<ReturnType<typeof verifyAuditSealed>>;

function report(
  ctx: CliContext,
  result: Verification | Omit<Verification, 'keySource'>,
  keySource: string,
): void {
  const chainBroken = !result.ok && (result.problem !== undefined || !result.controlPlane?.length);
  if (chainBroken) {
    throw new WardenError(
      'AUDIT_CHAIN_BROKEN',
      `audit log verification failed: ${result.problem?.message ?? 'unknown problem'}`,
      {
        firstBadSeq: result.firstBadSeq ?? null,
        problem: result.problem?.code ?? null,
      },
    );
  }
  const tampered = (result.controlPlane ?? []).map((f) => `${f.table}:${f.id} (${f.reason})`);
  if (tampered.length > 0) {
    throw new WardenError(
      'CONTROL_PLANE_TAMPERED',
      `${tampered.length} token/policy row(s) fail their integrity check and are refused: ${tampered.join(', ')}`,
      { rows: tampered.join(',') },
    );
  }
  ctx.print(
    [
      `audit log OK: ${result.records} records, ${result.checkpoints} signed checkpoints` +
        (result.lastCheckpointSeq !== null ? `, last at seq ${result.lastCheckpointSeq}` : ''),
      `checkpoint key: ${keySource}`,
      result.authenticated === null
        ? 'record authentication: not checked (sealed); records after the last checkpoint rest on the hash chain'
        : `record authentication: all ${result.authenticated} records authenticate under the audit key`,
      result.controlPlane === null
        ? 'control plane (tokens, policies): not checked: it cannot be checked without the vault key (sealed)'
        : 'control plane (tokens, policies): every row authenticates under the vault key',
      ...result.warnings.map((w) => `warning: ${w.code}: ${w.message}`),
    ],
    { ...result, keySource },
  );
}

/** `verified N/M records` on stderr at most once a second (a long log takes a while); never on stdout. */
function progressOnStderr(ctx: CliContext): (done: number, total: number) => void {
  let last = Date.now();
  return (done, total) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    ctx.io.stderr.write(`verified ${done}/${total} records\n`);
  };
}

export async function verify(ctx: CliContext, command: Command): Promise<void> {
  const file = command.opts().passphraseFile;
  const onProgress = progressOnStderr(ctx);
  if (hasPassphraseSource(vaultPassphrase(file), ctx.io)) {
    await withUnsealedWarden(ctx, file, async (w) =>
      report(ctx, await w.verifyAudit({ onProgress }), 'from the sealed keystore'),
    );
  } else {
    const result = await verifyAuditSealed(ctx.home, { onProgress });
    report(ctx, result, result.keySource);
  }
}

export async function show(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  const now = ctx.io.clock?.now() ?? new Date();
  const filter = {
    ...(opts.since ? { since: parseSince(opts.since, now) } : {}),
    ...(opts.identity ? { identity: opts.identity as string } : {}),
    limit: opts.limit as number,
  };
  await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
    const records = await w.showAudit(filter);
    ctx.print(
      records.length === 0
        ? 'no audit records match'
        : records.map(
            (r) =>
              `#${r.seq} ${r.time} ${r.actor} ${r.identity ?? '-'} ${r.action} ${r.outcome}` +
              (r.details !== undefined ? ` ${JSON.stringify(r.details)}` : ''),
          ),
      records,
    );
  });
}
