import type { Command } from 'commander';
import { connectionSpec } from '../../api/nwc/spec.ts';
import { connectionUri } from '../../api/nwc/uri.ts';
import { WardenError } from '../../core/errors.ts';
import { parseDuration } from '../../gateway/index.ts';
import type { NwcConnection } from '../../gateway/nwc-connections.ts';
import type { CliContext } from '../context.ts';
import { effectiveConfig, withCliGateway } from './config-flags.ts';
import { localOperator } from './local-operator.ts';

function shown(c: NwcConnection) {
  const { budget, ...rest } = c;
  return { ...rest, budget: budget ? `${budget.maxValue}sat/${budget.window}` : null };
}

export async function connectNwc(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  const ttlMs = o.expires === undefined ? undefined : parseDuration(o.expires);
  if (ttlMs === null) throw new WardenError('USAGE', '--expires takes a duration such as 12h or 30d');
  const holdWait = Number(o.holdWait);
  // Checked before the vault is unsealed: a typo costs no passphrase.
  const spec = connectionSpec({
    identity: o.identity,
    label: o.label,
    methods: o.methods,
    budget: o.budget,
    relays: effectiveConfig(ctx).nwc?.relays ?? [],
    holdWaitSeconds: holdWait,
    nip04: o.nip04 === true,
    ...(ttlMs === undefined ? {} : { ttlMs }),
  });
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const { connection, clientSecretHex } = await gateway.nwc.create(localOperator(gateway, w), spec);
    const uri = connectionUri(connection.servicePubkey, connection.relays, clientSecretHex);
    ctx.print(
      [
        `connection ${connection.id} for ${connection.identity} (${connection.methods.join(', ')}; budget ${spec.budget ? `${spec.budget.maxValue} sat per ${spec.budget.window}` : 'the identity’s only'}; expires ${connection.expiresAt})`,
        uri,
        'Hand it to the agent now: it is not shown again. `warden start` answers it while running.',
      ],
      { uri, ...shown(connection) },
    );
  });
}

export async function listNwc(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const all = await gateway.nwc.list(localOperator(gateway, w), o.identity);
    ctx.print(
      all.length === 0
        ? 'no NWC connections'
        : all.map(
            (c) =>
              `${c.id}\t${c.identity}\t${c.methods.join(',')}\t${c.budget ? `${c.budget.maxValue}sat/${c.budget.window}` : '-'}\t${c.tampered ? `TAMPERED (${c.tampered})` : c.revokedAt ? 'revoked' : `expires ${c.expiresAt}`}\t${c.label}`,
          ),
      { connections: all.map(shown) },
    );
  });
}

export async function revokeNwc(ctx: CliContext, command: Command): Promise<void> {
  const [id] = command.args;
  await withCliGateway(ctx, command.opts().passphraseFile, async (gateway, w) => {
    const c = await gateway.nwc.revoke(localOperator(gateway, w), String(id));
    ctx.print(`connection ${c.id} revoked`, shown(c));
  });
}
