import type { Command } from 'commander';
import { parsePositiveInt, type Registration, withPassphraseFile } from './options.ts';

const actions = () => import('../actions/audit.ts');

export function registerAuditCommands(program: Command, { run }: Registration): void {
  const audit = program.command('audit').description('the tamper-evident audit log');

  withPassphraseFile(
    audit
      .command('verify')
      .description(
        'check the hash chain and the signed checkpoints, and (unsealed) authenticate every record; ' +
          'names the first bad record',
      ),
  ).action(run(actions, 'verify'));

  withPassphraseFile(
    audit
      .command('show')
      .description('list audit records, with their encrypted details decrypted (needs the vault passphrase)')
      .option('--since <time>', 'ISO time or duration back from now (30m, 24h, 7d)')
      .option('--identity <name>', 'only records of this identity')
      .option('--limit <n>', 'the newest N records (default 100)', parsePositiveInt('--limit'), 100),
  ).action(run(actions, 'show'));
}
