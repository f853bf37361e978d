/**
 * The registered 2-of-3 wallets, one table of the Bitcoin module. Each row carries an HMAC under
 * the vault's control-plane key (as token and policy rows do, audit/control-plane.ts) over a
 * canonical encoding of every other column, domain-separated: a cosigner swapped, a wallet
 * added or moved to another identity by a database edit does not verify, and every request of
 * that identity is then refused (CONTROL_PLANE_TAMPERED) rather than judged with a set Warden did
 * not register. Rows are never updated: a wallet is registered once under its name.
 */
import { utf8 } from '../../../core/bytes.ts';
import { canonicalJson } from '../../../core/canonical.ts';
import { WardenError } from '../../../core/errors.ts';
import type { ControlPlaneMac } from '../../../keys/control-plane-key.ts';
import { type BitcoinNetwork, isBitcoinNetwork } from '../networks.ts';
import type { BitcoinDb, BitcoinMultisigTable } from '../tables.ts';
import type { MultisigWallet, WalletKey } from './wallet.ts';

export type { BitcoinDb, BitcoinMultisigTable };

const DOMAIN = 'warden/control-plane/bitcoin-multisig/v1\u0000';

/** The MAC'd bytes of a row; values coerced as read back (a hand edit may store any type). */
export function multisigMacMessage(row: Omit<BitcoinMultisigTable, 'mac'>): Uint8Array {
  return utf8(
    DOMAIN +
      canonicalJson({
        identity: String(row.identity),
        name: String(row.name),
        network: String(row.network),
        keys: String(row.keys),
        wardenIndex: String(row.warden_index),
        createdAt: String(row.created_at),
        createdBy: String(row.created_by),
      }),
  );
}

export interface RegisteredWallet extends MultisigWallet {
  createdAt: string;
  createdBy: string;
}

function keysJson(keys: readonly WalletKey[]): string {
  return canonicalJson(keys.map((k) => ({ fingerprint: k.fingerprint, path: [...k.path], xpub: k.xpub })));
}

/** Stores a new wallet (INVALID_ARGUMENT `reason: exists` when its name is taken). */
export async function insertWallet(
  db: BitcoinDb,
  identity: string,
  wallet: MultisigWallet,
  by: { actor: string; at: string },
  mac: ControlPlaneMac,
): Promise<RegisteredWallet> {
  const taken = await db
    .selectFrom('bitcoin_multisig')
    .select('name')
    .where('identity', '=', identity)
    .where('name', '=', wallet.name)
    .executeTakeFirst();
  if (taken)
    throw new WardenError('INVALID_ARGUMENT', `a wallet named ${wallet.name} is registered already`, {
      field: 'name',
      reason: 'exists',
    });
  const row = {
    identity,
    name: wallet.name,
    network: wallet.network,
    keys: keysJson(wallet.keys),
    warden_index: wallet.warden,
    created_at: by.at,
    created_by: by.actor,
  };
  await db
    .insertInto('bitcoin_multisig')
    .values({ ...row, mac: mac.mac(multisigMacMessage(row)) })
    .execute();
  return { ...wallet, createdAt: by.at, createdBy: by.actor };
}

function tampered(identity: string, name: string, reason: string): WardenError {
  return new WardenError(
    'CONTROL_PLANE_TAMPERED',
    'a registered multisig wallet of this identity fails its integrity check: nothing is signed for it until an operator looks',
    { table: 'bitcoin_multisig', identity, wallet: name.slice(0, 64), reason },
  );
}

/** A MAC-checked row as a wallet; CONTROL_PLANE_TAMPERED for a row the vault did not write. */
function walletOf(row: BitcoinMultisigTable, mac: ControlPlaneMac): RegisteredWallet {
  const name = String(row.name);
  if (!mac.verify(multisigMacMessage(row), row.mac))
    throw tampered(String(row.identity), name, row.mac === null ? 'mac-missing' : 'mac-mismatch');
  const keys = JSON.parse(row.keys) as WalletKey[];
  const network = row.network;
  if (!isBitcoinNetwork(network) || keys.length !== 3)
    throw tampered(String(row.identity), name, 'unreadable');
  return {
    name,
    network: network as BitcoinNetwork,
    keys: keys as unknown as MultisigWallet['keys'],
    warden: Number(row.warden_index),
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/** Every wallet registered for `identity`, each MAC-checked (any bad row refuses them all). */
export async function walletsOf(
  db: BitcoinDb,
  identity: string,
  mac: ControlPlaneMac,
): Promise<RegisteredWallet[]> {
  const rows = await db
    .selectFrom('bitcoin_multisig')
    .selectAll()
    .where('identity', '=', identity)
    .orderBy('name')
    .execute();
  return rows.map((row) => walletOf(row, mac));
}
