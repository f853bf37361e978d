import type { Command } from 'commander';
import { collect, type Registration, withPassphraseFile } from './options.ts';

const actions = () => import('../actions/bitcoin.ts');

export function registerBitcoinCommands(program: Command, { run }: Registration): void {
  const bitcoin = program.command('bitcoin').description('Bitcoin: the 2-of-3 wallets Warden holds a key of');
  const multisig = bitcoin
    .command('multisig')
    .description("2-of-3 wallets wsh(sortedmulti(2, cosigner, Warden's key, cosigner))");
  withPassphraseFile(
    multisig
      .command('create')
      .description(
        "register a 2-of-3 wallet: Warden's key is the identity's BIP-48 account m/48'/coin'/0'/2'; prints its descriptors",
      )
      .argument('<name>', 'wallet name (a-z, 0-9, -, _)')
      .requiredOption('--identity <name>', 'the identity whose key is the third')
      .requiredOption(
        '--cosigner <XPUB@FINGERPRINT/PATH>',
        "a cosigner's account xpub (or SLIP-132 Zpub/Vpub) with its origin, e.g. tpub…@d34db33f/48h/1h/0h/2h (twice)",
        collect,
        [],
      ),
  ).action(run(actions, 'createMultisig'));
  withPassphraseFile(
    multisig
      .command('list')
      .description("the identity's registered wallets")
      .requiredOption('--identity <name>', 'identity'),
  ).action(run(actions, 'listMultisig'));
  withPassphraseFile(
    multisig
      .command('show')
      .description('one wallet: its descriptors (with checksums), keys and first receive address')
      .argument('<name>')
      .requiredOption('--identity <name>', 'identity'),
  ).action(run(actions, 'showMultisig'));
}
