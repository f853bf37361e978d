import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { withCliGateway } from './config-flags.ts';
import { localOperator } from './local-operator.ts';

type Summary = {
  name: string;
  network: string;
  receiveDescriptor: string;
  changeDescriptor: string;
  firstAddress: string;
  keys: { fingerprint: string; role: string }[];
};

function describe(w: Summary): string[] {
  return [
    `wallet ${w.name} (2-of-3, ${w.network}): keys ${w.keys.map((k) => `${k.fingerprint}${k.role === 'warden' ? ' (warden)' : ''}`).join(', ')}`,
    `  receive: ${w.receiveDescriptor}`,
    `  change:  ${w.changeDescriptor}`,
    `  first receive address: ${w.firstAddress}`,
  ];
}

async function moduleAction(ctx: CliContext, command: Command, name: string, args: unknown) {
  const o = command.opts();
  return withCliGateway(ctx, o.passphraseFile, async (gateway, w) =>
    gateway.admin.moduleAction(localOperator(gateway, w), name, o.identity, args),
  );
}

export async function createMultisig(ctx: CliContext, command: Command): Promise<void> {
  const args = { name: command.args[0], cosigners: command.opts().cosigner };
  const w = (await moduleAction(ctx, command, 'bitcoin.multisig.create', args)) as Summary;
  ctx.print(describe(w), w);
}

export async function listMultisig(ctx: CliContext, command: Command): Promise<void> {
  const all = (await moduleAction(ctx, command, 'bitcoin.multisig.list', {})) as Summary[];
  ctx.print(all.length === 0 ? 'no wallets' : all.flatMap(describe), all);
}

export async function showMultisig(ctx: CliContext, command: Command): Promise<void> {
  const w = (await moduleAction(ctx, command, 'bitcoin.multisig.show', { name: command.args[0] })) as Summary;
  ctx.print(describe(w), w);
}
