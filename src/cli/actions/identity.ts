import type { Command } from 'commander';
import { wipe } from '../../core/bytes.ts';
import { WardenError } from '../../core/errors.ts';
import { serverRunning } from '../../gateway/index.ts';
import { checkIdentityName, type IdentityView, readSecretFile } from '../../gateway/vault-api.ts';
import type { CliContext } from '../context.ts';
import { withCliGateway } from './config-flags.ts';
import { localOperator } from './local-operator.ts';
import { parseNetwork, withUnsealedWarden } from './shared.ts';

function describe(identity: IdentityView): string[] {
  const lines = [`identity ${identity.name} (${identity.network}, created ${identity.createdAt})`];
  if (identity.nostr) lines.push(`  nostr:     ${identity.nostr.npub}`);
  if (identity.evm) lines.push(`  evm:       ${identity.evm.address} (${identity.evm.path})`);
  if (identity.bitcoin) {
    lines.push(`  bitcoin:   fingerprint ${identity.bitcoin.fingerprint}`);
    lines.push(`    bip84:   ${identity.bitcoin.bip84.receiveDescriptor}`);
    lines.push(`    bip86:   ${identity.bitcoin.bip86.receiveDescriptor}`);
  }
  lines.push(
    `  lightning: ${identity.lightning.configured ? `${identity.lightning.kind} credential sealed` : 'no credential'}`,
  );
  for (const k of identity.keys) {
    const due = k.rotationDue ? `, rotation due ${k.rotationDue}` : '';
    const retires = k.retiresAt && k.status !== 'active' ? `, retires ${k.retiresAt}` : '';
    lines.push(`  key ${k.purpose} v${k.version}: ${k.status} (${k.origin}${due}${retires})`);
  }
  return lines;
}

export async function create(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  const network = parseNetwork(opts.network);
  checkIdentityName(command.args[0]!);
  await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
    const created = await w.createIdentity(command.args[0]!, network);
    ctx.print(describe(created), created);
  });
}

export async function list(ctx: CliContext, command: Command): Promise<void> {
  await withUnsealedWarden(ctx, command.opts().passphraseFile, async (w) => {
    const all = w.listIdentities();
    ctx.print(
      all.length === 0
        ? 'no identities'
        : all.map((i) => `${i.name}\t${i.nostr?.npub ?? '-'}\t${i.evm?.address ?? '-'}`),
      all.map((i) => ({
        name: i.name,
        network: i.network,
        npub: i.nostr?.npub ?? null,
        evmAddress: i.evm?.address ?? null,
      })),
    );
  });
}

export async function show(ctx: CliContext, command: Command): Promise<void> {
  await withUnsealedWarden(ctx, command.opts().passphraseFile, async (w) => {
    const found = w.showIdentity(command.args[0]!);
    ctx.print(describe(found), found);
  });
}

export async function rotate(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  if ([opts.nostr, opts.seed, opts.circuits].filter(Boolean).length !== 1)
    throw new WardenError('USAGE', 'give exactly one of --nostr, --seed or --circuits');
  if (opts.reason !== undefined && !opts.circuits)
    throw new WardenError('USAGE', '--reason goes with --circuits');
  if (opts.circuits) return rotateCircuits(ctx, command.args[0]!, opts.reason ?? null, opts.passphraseFile);
  await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
    const rotated = await w.rotate(command.args[0]!, opts.nostr ? 'nostr' : 'seed');
    ctx.print(describe(rotated), rotated);
  });
}

/**
 * Records the rotation in the audit log; the running server, which makes the identity's requests,
 * follows the log and applies it within a second (gateway/circuits.ts).
 */
async function rotateCircuits(
  ctx: CliContext,
  name: string,
  reason: string | null,
  passphraseFile?: string,
): Promise<void> {
  checkIdentityName(name);
  if (reason !== null && reason.length > 500)
    throw new WardenError('USAGE', '--reason is at most 500 characters');
  await withCliGateway(ctx, passphraseFile, async (gateway, w) => {
    const { seq } = await gateway.admin.rotateCircuits(localOperator(gateway, w), name, reason);
    const running = serverRunning(ctx.home);
    ctx.print(
      running
        ? `circuits of ${name} rotated (audit record ${seq}): the running server takes it within a second while it is unsealed, and sends ${name}'s next requests on new Tor circuits; other identities keep theirs`
        : `circuits of ${name} rotated (audit record ${seq}); no server runs in this home: the next \`warden start\` begins with new circuits for every identity`,
      { identity: name, seq, serverRunning: running },
    );
  });
}

export async function importIdentity(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  const network = parseNetwork(opts.network);
  checkIdentityName(command.args[0]!);
  if (!opts.mnemonicFile && !opts.nsecFile)
    throw new WardenError('USAGE', 'give --mnemonic-file and/or --nsec-file');
  // Secret files are read (and their permissions checked) before the vault is unsealed.
  const files: { mnemonic?: Uint8Array; nsec?: Uint8Array; ncryptsecPassword?: Uint8Array } = {};
  try {
    if (opts.mnemonicFile) files.mnemonic = readSecretFile(opts.mnemonicFile);
    if (opts.nsecFile) files.nsec = readSecretFile(opts.nsecFile);
    if (opts.ncryptsecPasswordFile) files.ncryptsecPassword = readSecretFile(opts.ncryptsecPasswordFile);
    await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
      const imported = await w.importIdentity(command.args[0]!, files, network);
      ctx.print(describe(imported), imported);
    });
  } finally {
    wipe(files.mnemonic, files.nsec, files.ncryptsecPassword);
  }
}

export async function lightning(ctx: CliContext, command: Command): Promise<void> {
  const opts = command.opts();
  const name = command.args[0]!;
  if (!['macaroon', 'rune', 'nwc'].includes(opts.kind))
    throw new WardenError('USAGE', '--kind must be macaroon, rune or nwc');
  const credential = readSecretFile(opts.credentialFile);
  try {
    await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
      await w.setCredential(name, opts.kind, credential);
      ctx.print(`Lightning ${opts.kind} credential sealed for ${name}`, { identity: name, kind: opts.kind });
    });
  } finally {
    wipe(credential);
  }
}
