/**
 * The operator's actions on the registered 2-of-3 wallets (`warden bitcoin multisig …`):
 * create (audited, in the transaction that stores the MAC'd row), list and show. Warden's key in
 * a wallet is always the identity's own BIP-48 P2WSH account, read off the seed by keys/ (the
 * signer capability); the two cosigners are hostile input (cosigner.ts, wallet.ts).
 */

import { hex } from '@scure/base';
import { HDKey } from '@scure/bip32';
import type { Canonical } from '../../../core/canonical.ts';
import { WardenError } from '../../../core/errors.ts';
import { readBody, requireFields } from '../../../core/validate.ts';
import type { BitcoinPsbtSigner } from '../../../keys/capabilities.ts';
import type { IdentityView } from '../../../keys/view.ts';
import type { AdminAction, AdminContext } from '../../module.ts';
import { addressOfScript } from '../addresses.ts';
import { VERSIONS } from '../chains.ts';
import { type BitcoinNetwork, isBitcoinNetwork } from '../networks.ts';
import { parseCosigner, pathIndexes } from './cosigner.ts';
import { type BitcoinDb, insertWallet, type RegisteredWallet, walletsOf } from './registry.ts';
import { buildWallet, type MultisigWallet, walletDescriptor, walletScripts } from './wallet.ts';

/** Wallet names: what identity names are, short. */
const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Wallets one identity may register: each is judged against every PSBT of the identity. */
export const MAX_WALLETS = 16;

type Ctx = AdminContext<BitcoinDb, BitcoinPsbtSigner>;

function networkOf(keys: IdentityView): BitcoinNetwork {
  if (!keys.bitcoin || !isBitcoinNetwork(keys.network))
    throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no Bitcoin key');
  return keys.network;
}

function parseName(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value))
    throw new WardenError(
      'INVALID_NAME',
      'a wallet name is 1-32 characters of a-z, 0-9, - and _, starting with a letter or digit',
      {
        field: 'name',
      },
    );
  return value;
}

/** What is shown of a wallet: its descriptors (receive, change) and its first receive address. */
export function walletSummary(wallet: MultisigWallet | RegisteredWallet): Record<string, Canonical> {
  const first = addressOfScript(walletScripts(wallet, 0, 0).script, wallet.network);
  return {
    name: wallet.name,
    network: wallet.network,
    threshold: '2-of-3',
    receiveDescriptor: walletDescriptor(wallet, 0),
    changeDescriptor: walletDescriptor(wallet, 1),
    firstAddress: first,
    keys: wallet.keys.map((k, i) => ({
      fingerprint: k.fingerprint,
      xpub: k.xpub,
      role: i === wallet.warden ? 'warden' : 'cosigner',
    })),
    ...('createdAt' in wallet ? { createdAt: wallet.createdAt, createdBy: wallet.createdBy } : {}),
  };
}

export const createMultisig: AdminAction<BitcoinDb, 'bitcoin-psbt'> = {
  name: 'bitcoin.multisig.create',
  writes: true,
  signer: 'bitcoin-psbt',
  async run(args: unknown, ctx: Ctx) {
    const get = readBody(args, ['name', 'cosigners']);
    requireFields(get, ['name', 'cosigners']);
    const name = parseName(get('name'));
    const network = networkOf(ctx.publicKeys);
    const given = get('cosigners');
    if (!Array.isArray(given) || given.length !== 2 || !given.every((c) => typeof c === 'string'))
      throw new WardenError('INVALID_ARGUMENT', 'a 2-of-3 wallet has exactly two cosigners besides Warden', {
        field: 'cosigner',
        reason: 'count',
      });
    const cosigners = (given as string[]).map((c, i) => parseCosigner(c, network, `cosigner[${i}]`));
    const account = ctx.signer.multisigAccount();
    const node = HDKey.fromExtendedKey(account.xpub, network === 'bitcoin' ? VERSIONS.main : VERSIONS.test);
    const own = {
      fingerprint: account.fingerprint,
      path: pathIndexes(account.path),
      xpub: account.xpub,
      publicKey: hex.encode(node.publicKey!),
    };
    const wallet = buildWallet(name, network, cosigners, own);
    const existing = await walletsOf(ctx.tables, ctx.identity, ctx.controlPlane);
    if (existing.length >= MAX_WALLETS)
      throw new WardenError('INVALID_ARGUMENT', `an identity registers at most ${MAX_WALLETS} wallets`, {
        field: 'name',
        reason: 'too_many',
      });
    const stored = await insertWallet(
      ctx.tables,
      ctx.identity,
      wallet,
      { actor: ctx.actor, at: ctx.now },
      ctx.controlPlane,
    );
    const summary = walletSummary(stored);
    return {
      result: summary,
      details: {
        name,
        receiveDescriptor: summary.receiveDescriptor!,
        fingerprints: wallet.keys.map((k) => k.fingerprint),
      },
    };
  },
};

export const listMultisig: AdminAction<BitcoinDb, 'bitcoin-psbt'> = {
  name: 'bitcoin.multisig.list',
  writes: false,
  signer: 'bitcoin-psbt',
  async run(_args: unknown, ctx: Ctx) {
    const wallets = await walletsOf(ctx.tables, ctx.identity, ctx.controlPlane);
    return { result: wallets.map(walletSummary), details: {} };
  },
};

export const showMultisig: AdminAction<BitcoinDb, 'bitcoin-psbt'> = {
  name: 'bitcoin.multisig.show',
  writes: false,
  signer: 'bitcoin-psbt',
  async run(args: unknown, ctx: Ctx) {
    const get = readBody(args, ['name']);
    requireFields(get, ['name']);
    const name = parseName(get('name'));
    const wallet = (await walletsOf(ctx.tables, ctx.identity, ctx.controlPlane)).find((w) => w.name === name);
    if (!wallet) throw new WardenError('NOT_FOUND', `no wallet named ${name} for this identity`, { name });
    return { result: walletSummary(wallet), details: {} };
  },
};
