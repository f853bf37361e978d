import type { Command } from 'commander';
import { wipe } from '../../core/bytes.ts';
import { WardenError } from '../../core/errors.ts';
import { type IdentityView, readSecretFile } from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { parseNetwork, type Runner, withPassphraseFile, withUnsealedWarden } from './shared.ts';

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

export function registerIdentityCommands(program: Command, run: Runner): void {
  const identity = program
    .command('identity')
    .description('isolated identities: each with its own seed, Nostr key and Lightning slot');

  const create = withPassphraseFile(
    identity
      .command('create')
      .description('create an identity with fresh keys from the OS CSPRNG')
      .argument('<name>', 'identity name (a-z, 0-9, -, _)')
      .option('--network <network>', 'bitcoin network: bitcoin, testnet, signet or regtest', 'bitcoin'),
  );
  create.action(
    run(async (ctx: CliContext) => {
      const opts = create.opts();
      const network = parseNetwork(opts.network);
      await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
        const created = await w.createIdentity(create.args[0]!, network);
        ctx.print(describe(created), created);
      });
    }),
  );

  const list = withPassphraseFile(identity.command('list').description('list identities (public data only)'));
  list.action(
    run(async (ctx) => {
      await withUnsealedWarden(ctx, list.opts().passphraseFile, async (w) => {
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
    }),
  );

  const show = withPassphraseFile(
    identity
      .command('show')
      .description('show public keys: npub, xpubs and descriptors, EVM address')
      .argument('<name>'),
  );
  show.action(
    run(async (ctx) => {
      await withUnsealedWarden(ctx, show.opts().passphraseFile, async (w) => {
        const found = w.showIdentity(show.args[0]!);
        ctx.print(describe(found), found);
      });
    }),
  );

  const rotate = withPassphraseFile(
    identity
      .command('rotate')
      .description('new version of a key; the old one stays deprecated (verify/decrypt only) for 30 days')
      .argument('<name>')
      .option('--nostr', 'rotate the Nostr key')
      .option('--seed', 'rotate the BIP-39 seed (Bitcoin and EVM)'),
  );
  rotate.action(
    run(async (ctx) => {
      const opts = rotate.opts();
      if (!!opts.nostr === !!opts.seed)
        throw new WardenError('USAGE', 'give exactly one of --nostr or --seed');
      await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
        const rotated = await w.rotate(rotate.args[0]!, opts.nostr ? 'nostr' : 'seed');
        ctx.print(describe(rotated), rotated);
      });
    }),
  );

  const imp = withPassphraseFile(
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
  );
  imp.action(
    run(async (ctx) => {
      const opts = imp.opts();
      const network = parseNetwork(opts.network);
      if (!opts.mnemonicFile && !opts.nsecFile)
        throw new WardenError('USAGE', 'give --mnemonic-file and/or --nsec-file');
      // Secret files are read (and their permissions checked) before the vault is unsealed.
      const files: { mnemonic?: Uint8Array; nsec?: Uint8Array; ncryptsecPassword?: Uint8Array } = {};
      try {
        if (opts.mnemonicFile) files.mnemonic = readSecretFile(opts.mnemonicFile);
        if (opts.nsecFile) files.nsec = readSecretFile(opts.nsecFile);
        if (opts.ncryptsecPasswordFile) files.ncryptsecPassword = readSecretFile(opts.ncryptsecPasswordFile);
        await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
          const imported = await w.importIdentity(imp.args[0]!, files, network);
          ctx.print(describe(imported), imported);
        });
      } finally {
        wipe(files.mnemonic, files.nsec, files.ncryptsecPassword);
      }
    }),
  );

  const lightning = withPassphraseFile(
    identity
      .command('lightning')
      .description("seal a Lightning backend credential into the identity's slot")
      .argument('<name>')
      .requiredOption('--kind <kind>', 'macaroon, rune or nwc')
      .requiredOption('--credential-file <file>', 'file holding the credential (mode 0600)'),
  );
  lightning.action(
    run(async (ctx) => {
      const opts = lightning.opts();
      if (!['macaroon', 'rune', 'nwc'].includes(opts.kind))
        throw new WardenError('USAGE', '--kind must be macaroon, rune or nwc');
      const credential = readSecretFile(opts.credentialFile);
      try {
        await withUnsealedWarden(ctx, opts.passphraseFile, async (w) => {
          await w.setCredential(lightning.args[0]!, opts.kind, credential);
          ctx.print(`Lightning ${opts.kind} credential sealed for ${lightning.args[0]}`, {
            identity: lightning.args[0],
            kind: opts.kind,
          });
        });
      } finally {
        wipe(credential);
      }
    }),
  );
}
