import type { Command } from 'commander';
import { parsePositiveInt, type Registration, withPassphraseFile } from './options.ts';

const actions = () => import('../actions/vault.ts');

export function withKdfFlags(cmd: Command): Command {
  return cmd
    .option(
      '--kdf-memory <MiB>',
      'argon2id memory in MiB (default 64; lower only for tests)',
      parsePositiveInt('--kdf-memory'),
    )
    .option('--kdf-iterations <n>', 'argon2id iterations (default 3)', parsePositiveInt('--kdf-iterations'));
}

export function registerVaultCommands(program: Command, { run }: Registration): void {
  withKdfFlags(
    withPassphraseFile(
      program.command('init').description('create a new sealed vault in the home directory'),
    ),
  ).action(run(actions, 'init'));

  withPassphraseFile(
    program
      .command('status')
      .description('unseal and show vault status, keys due for rotation and audit health'),
  ).action(run(actions, 'status'));

  withPassphraseFile(
    program
      .command('backup')
      .description(
        'write one encrypted file with every key and a consistent copy of the database (policies, ' +
          'tokens, ledger, requests, audit log), under a separate backup passphrase',
      )
      .requiredOption('--out <file>', 'backup file to create (refuses to overwrite)')
      .option('--backup-passphrase-file <file>', 'read the backup passphrase from FILE (mode 0600)'),
  ).action(run(actions, 'backup'));

  withKdfFlags(
    withPassphraseFile(
      program
        .command('restore')
        .description("create this home's vault from a backup file, sealed under a new vault passphrase")
        .argument('<file>', 'backup file written by `warden backup`')
        .option('--backup-passphrase-file <file>', 'read the backup passphrase from FILE (mode 0600)'),
    ),
  ).action(run(actions, 'restore'));

  const passphraseCommand = program.command('passphrase').description('manage the vault passphrase');
  withKdfFlags(
    withPassphraseFile(
      passphraseCommand
        .command('change')
        .description(
          're-seal every key under a new vault passphrase; KDF flags change the key-derivation settings ' +
            '(default: keep the current ones). The previous keystore copy, which the old passphrase ' +
            'opens, is removed. A running `warden start` seals itself and must be started again.',
        )
        .option('--new-passphrase-file <file>', 'read the new vault passphrase from FILE (mode 0600)'),
    ),
  ).action(run(actions, 'changePassphrase'));
}
