import type { Command } from 'commander';
import { type Registration, withPassphraseFile } from './options.ts';

const actions = () => import('../actions/identity.ts');

export function registerIdentityCommands(program: Command, { run }: Registration): void {
  const identity = program
    .command('identity')
    .description('isolated identities: each with its own seed, Nostr key and Lightning slot');

  withPassphraseFile(
    identity
      .command('create')
      .description('create an identity with fresh keys from the OS CSPRNG')
      .argument('<name>', 'identity name (a-z, 0-9, -, _)')
      .option('--network <network>', 'bitcoin network: bitcoin, testnet, signet or regtest', 'bitcoin'),
  ).action(run(actions, 'create'));

  withPassphraseFile(identity.command('list').description('list identities (public data only)')).action(
    run(actions, 'list'),
  );

  withPassphraseFile(
    identity
      .command('show')
      .description('show public keys: npub, xpubs and descriptors, EVM address')
      .argument('<name>'),
  ).action(run(actions, 'show'));

  withPassphraseFile(
    identity
      .command('rotate')
      .description(
        'new version of a key (the old one stays deprecated, verify/decrypt only, for 30 days; the identity also gets new Tor circuits), or new Tor circuits alone',
      )
      .argument('<name>')
      .option('--nostr', 'rotate the Nostr key')
      .option('--seed', 'rotate the BIP-39 seed (Bitcoin and EVM)')
      .option('--circuits', "new Tor circuits for the identity's next requests (no other identity's)")
      .option('--reason <text>', 'with --circuits: why, for the audit record (at most 500 characters)'),
  ).action(run(actions, 'rotate'));

  withPassphraseFile(
    identity
      .command('import')
      .description(
        'import an identity from a BIP-39 mnemonic and/or a Nostr nsec/ncryptsec (files must be mode 0600)',
      )
      .argument('<name>')
      .option('--mnemonic-file <file>', 'BIP-39 English mnemonic (checksum verified)')
      .option('--nsec-file <file>', 'Nostr secret key: nsec1… or ncryptsec1… (NIP-49)')
      .option('--ncryptsec-password-file <file>', 'password of the ncryptsec')
      .option('--network <network>', 'bitcoin network: bitcoin, testnet, signet or regtest', 'bitcoin'),
  ).action(run(actions, 'importIdentity'));

  withPassphraseFile(
    identity
      .command('lightning')
      .description("seal a Lightning backend credential into the identity's slot")
      .argument('<name>')
      .requiredOption('--kind <kind>', 'macaroon, rune or nwc')
      .requiredOption('--credential-file <file>', 'file holding the credential (mode 0600)'),
  ).action(run(actions, 'lightning'));
}
