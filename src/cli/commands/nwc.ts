import type { Command } from 'commander';
import { METHOD_NAMES } from '../../api/nwc/methods.ts';
import type { Registration } from './options.ts';
import { withPassphraseFile } from './options.ts';

const actions = () => import('../actions/nwc.ts');

export function registerNwcCommands(program: Command, { run }: Registration): void {
  const nwc = program.command('nwc').description('Nostr Wallet Connect (NIP-47) connections for agents');
  withPassphraseFile(
    nwc
      .command('connect')
      .description(
        'a new connection: prints its nostr+walletconnect:// URI once (it holds the client secret)',
      )
      .requiredOption('--identity <name>', 'the identity whose Lightning payments it makes')
      .requiredOption(
        '--budget <amount/window>',
        'its own budget, e.g. 10000sat/day (day, week, month, 24h, 7d…), or none',
      )
      .option(
        '--methods <list>',
        `comma-separated: ${METHOD_NAMES.join(', ')}`,
        'pay_invoice,get_balance,get_info,get_budget',
      )
      .option('--expires <duration>', 'lifetime, e.g. 30d (default 30d, at most 366d)')
      .option(
        '--hold-wait <seconds>',
        'how long a payment held for approval keeps the client waiting (0-50)',
        '0',
      )
      .option('--nip04', 'also accept NIP-04 encryption (legacy clients; NIP-44 otherwise)')
      .option('--label <text>', 'a name to recognise the connection by', 'nwc'),
  ).action(run(actions, 'connectNwc'));
  withPassphraseFile(
    nwc
      .command('list')
      .description('list connections (never their secrets)')
      .option('--identity <name>', 'only this identity’s'),
  ).action(run(actions, 'listNwc'));
  withPassphraseFile(
    nwc.command('revoke').description('revoke a connection at once').argument('<id>'),
  ).action(run(actions, 'revokeNwc'));
}
