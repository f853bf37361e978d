import type { Command } from 'commander';
import { wipe } from '../../core/bytes.ts';
import { WardenError } from '../../core/errors.ts';
import {
  DEFAULT_KDF,
  KDF_BOUNDS,
  type KdfSettings,
  readBackupFile,
  Warden,
} from '../../gateway/vault-api.ts';
import type { CliContext } from '../context.ts';
import { readNewPassphrase, readPassphrase, requirePassphraseSource } from '../passphrase.ts';
import { withCliGateway } from './config-flags.ts';
import { monitorStatus } from './monitor-status.ts';
import { backupPassphrase, newVaultPassphrase, vaultPassphrase, withUnsealedWarden } from './shared.ts';

interface KdfFlags {
  kdfMemory?: number;
  kdfIterations?: number;
}

function checkKdfMemory(memoryKiB: number): void {
  if (memoryKiB < KDF_BOUNDS.memoryKiB.min || memoryKiB > KDF_BOUNDS.memoryKiB.max) {
    throw new WardenError(
      'USAGE',
      `--kdf-memory must be between ${KDF_BOUNDS.memoryKiB.min / 1024} and ${KDF_BOUNDS.memoryKiB.max / 1024} MiB`,
    );
  }
}

function checkKdfIterations(iterations: number): void {
  if (iterations > KDF_BOUNDS.iterations.max) throw new WardenError('USAGE', '--kdf-iterations is too large');
}

/** The KDF flags given, against the bounds: for a command that learns its base only once unsealed. */
function checkKdfFlags(flags: KdfFlags): void {
  if (flags.kdfMemory !== undefined) checkKdfMemory(flags.kdfMemory * 1024);
  if (flags.kdfIterations !== undefined) checkKdfIterations(flags.kdfIterations);
}

/** KDF settings from the flags; what a flag leaves out comes from `base` (the defaults, or the vault's own). */
function kdfFromFlags(ctx: CliContext, flags: KdfFlags, base: KdfSettings = DEFAULT_KDF) {
  const memoryKiB = flags.kdfMemory === undefined ? base.memoryKiB : flags.kdfMemory * 1024;
  const iterations = flags.kdfIterations ?? base.iterations;
  checkKdfMemory(memoryKiB);
  checkKdfIterations(iterations);
  if (memoryKiB < DEFAULT_KDF.memoryKiB || iterations < DEFAULT_KDF.iterations) {
    ctx.io.stderr.write(
      'WARNING: key-derivation parameters below the defaults make the passphrase easier to guess.\n',
    );
  }
  return { memoryKiB, iterations, parallelism: base.parallelism };
}

export async function initVault(
  ctx: CliContext,
  opts: { passphraseFile?: string } & KdfFlags,
): Promise<Warden> {
  const kdf = kdfFromFlags(ctx, opts);
  const passphrase = await readNewPassphrase(vaultPassphrase(opts.passphraseFile), ctx.io);
  try {
    return await Warden.init(ctx.wardenOptions({ kdf }), passphrase);
  } finally {
    wipe(passphrase);
  }
}

/** The start-up check reads only what came after the last verification; the line says so. */
function auditHealth(a: Awaited<ReturnType<Warden['status']>>['audit']): string {
  if (!a.ok) return `BROKEN: ${a.problem?.message ?? ''}`;
  if (a.verifiedFrom === 0) return 'chain verified in full';
  return `chain verified after #${a.verifiedFrom} (up to it by an earlier check; \`warden audit verify\` reads all)`;
}

export async function printStatus(
  ctx: CliContext,
  warden: Warden,
  headline: string,
  monitors: { lines: string[]; readings: Record<string, unknown> } = { lines: [], readings: {} },
): Promise<void> {
  const s = await warden.status();
  ctx.print(
    [
      headline,
      `home:        ${s.home}`,
      `vault:       ${s.vaultId} (unsealed)`,
      `identities:  ${s.identities.length === 0 ? 'none' : s.identities.join(', ')}`,
      `audit log:   ${s.audit.records} records, ${auditHealth(s.audit)}`,
      `onion:       ${s.onion.address} (${s.onion.published ? 'published by the running server' : 'not published: `warden start --onion`'})`,
      s.rotationDue.length === 0
        ? 'rotation:    no key is due'
        : `rotation due: ${s.rotationDue.map((r) => `${r.identity}/${r.purpose} v${r.version} (since ${r.rotationDue})`).join('; ')}`,
      ...monitors.lines,
    ],
    { ...s, monitors: monitors.readings },
  );
}

export async function init(ctx: CliContext, command: Command): Promise<void> {
  const warden = await initVault(ctx, command.opts());
  try {
    ctx.print([`Vault created in ${warden.layout.dir}`, `vault id: ${warden.vault.vaultId}`], {
      home: warden.layout.dir,
      vaultId: warden.vault.vaultId,
    });
  } finally {
    await warden.close();
  }
}

export async function status(ctx: CliContext, command: Command): Promise<void> {
  // Through the CLI's gateway: the monitors (Lightning's channels) are read with its backends.
  await withCliGateway(ctx, command.opts().passphraseFile, async (gateway, warden) =>
    printStatus(ctx, warden, 'Warden status', await monitorStatus(gateway, warden)),
  );
}

export async function backup(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  // The backup passphrase is read once unsealed; that there is one is known now.
  requirePassphraseSource(vaultPassphrase(opts.passphraseFile), ctx.io);
  requirePassphraseSource(backupPassphrase(opts.backupPassphraseFile), ctx.io);
  await withUnsealedWarden(ctx, opts.passphraseFile, async (warden) => {
    const backupPass = await readNewPassphrase(backupPassphrase(opts.backupPassphraseFile), ctx.io);
    try {
      await warden.backup(opts.out, backupPass);
    } finally {
      wipe(backupPass);
    }
    ctx.print(`Backup written to ${opts.out}`, { out: opts.out });
  });
}

export async function restore(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  const file = command.args[0]!;
  const bytes = readBackupFile(file);
  const kdf = kdfFromFlags(ctx, opts);
  const backupPass = await readPassphrase(backupPassphrase(opts.backupPassphraseFile), ctx.io);
  let newPass: Uint8Array | undefined;
  try {
    newPass = await readNewPassphrase(vaultPassphrase(opts.passphraseFile), ctx.io);
    const warden = await Warden.restore(ctx.wardenOptions({ kdf }), bytes, backupPass, newPass);
    try {
      const identities = warden.listIdentities().map((i) => i.name);
      const report = warden.restoreReport;
      const c = report?.counts;
      // What did not come back goes to stderr too, so it is seen even when stdout is parsed.
      for (const line of report?.notRestored ?? []) ctx.io.stderr.write(`NOT RESTORED: ${line}\n`);
      ctx.print(
        [
          `Vault ${warden.vault.vaultId} restored into ${warden.layout.dir}`,
          `identities: ${identities.join(', ') || 'none'}`,
          report?.database && c
            ? `database: ${c.policies} policies, ${c.tokens} tokens, ${c.ledgerEntries} ledger entries, ` +
              `${c.requests} requests, ${c.auditRecords} audit records`
            : 'database: NONE in this backup (keys only)',
        ],
        {
          home: warden.layout.dir,
          vaultId: warden.vault.vaultId,
          identities,
          ...(report ? { restore: { ...report } } : {}),
        },
      );
    } finally {
      await warden.close();
    }
  } finally {
    wipe(backupPass, newPass);
  }
}

export async function changePassphrase(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  // The settings are the vault's own with the flags over them, known once unsealed; the flags
  // themselves, and that there is a new passphrase to read, are checked now.
  checkKdfFlags(opts);
  requirePassphraseSource(vaultPassphrase(opts.passphraseFile), ctx.io);
  requirePassphraseSource(newVaultPassphrase(opts.newPassphraseFile), ctx.io);
  await withUnsealedWarden(ctx, opts.passphraseFile, async (warden) => {
    const kdf = kdfFromFlags(ctx, opts, warden.vault.kdf);
    const next = await readNewPassphrase(newVaultPassphrase(opts.newPassphraseFile), ctx.io);
    try {
      await warden.changePassphrase(next, kdf);
    } finally {
      wipe(next);
    }
    ctx.print(
      [
        'Vault passphrase changed; every key is re-sealed under it.',
        `key derivation: argon2id, ${kdf.memoryKiB / 1024} MiB, ${kdf.iterations} iterations`,
        'A running `warden start` seals itself at its next request: start it again with the new passphrase.',
      ],
      { changed: true, kdf },
    );
  });
}
