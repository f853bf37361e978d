/**
 * What the signer (keys/bitcoin-psbt-signer.ts) would refuse, or sign wrongly, refused already in
 * the analysis: otherwise a request is judged, perhaps held and approved by an operator, and only
 * then fails. For each input Warden signs:
 * - BIP-86 keys have no script tree: a tapMerkleRoot would make the library tweak another key, and
 *   a tapLeafScript asks for a script-path spend Warden never makes;
 * - a tapInternalKey must be our key's: the one whose BIP-86 output key is the spent script;
 * - no signature may be there already (partial, taproot key or script): Warden adds its own to an
 *   input it owns, it does not sign next to, or over, one it did not make;
 * - a 2-of-3 input's witness script must be exactly the registered wallet's at the judged
 *   chain/index (the script the library signs is the PSBT's, not ours), and the only signatures
 *   already there may be the other cosigners' at that place: a cosigner may sign first, but never
 *   in Warden's name, and a finalized input is not signed at all (analyze-psbt.ts).
 */
import { p2tr, type Transaction } from '@scure/btc-signer';
import { equalBytes } from '@scure/btc-signer/utils.js';
import { WardenError } from '../../core/errors.ts';
import type { KeyPath } from './accounts.ts';
import { type MultisigWallet, walletScripts } from './multisig/wallet.ts';

function refuse(input: number, reason: string, why: string): never {
  throw new WardenError('INVALID_REQUEST', `psbt input ${input} ${why}`, { field: 'psbt', reason, input });
}

function isOutputKeyOf(internal: Uint8Array, script: Uint8Array): boolean {
  try {
    return equalBytes(p2tr(internal).script, script);
  } catch {
    return false; // not a valid x-only key
  }
}

export function checkOwnInputs(
  tx: Transaction,
  toSign: readonly { input: number; key: KeyPath }[],
  scriptOf: (input: number) => Uint8Array,
  wallets: readonly MultisigWallet[] = [],
): void {
  for (const { input: i, key } of toSign) {
    const input = tx.getInput(i);
    if (key.account === 'bip48') {
      checkMultisigInput(tx, i, key, wallets);
      continue;
    }
    if (input.partialSig?.length || input.tapKeySig || input.tapScriptSig?.length)
      refuse(i, 'already_signed', 'already carries a signature');
    if (key.account !== 'bip86') continue;
    if (input.tapMerkleRoot || input.tapLeafScript?.length)
      refuse(i, 'taproot_script_tree', 'names a taproot script tree: a BIP-86 key has none');
    if (input.tapInternalKey && !isOutputKeyOf(input.tapInternalKey, scriptOf(i)))
      refuse(i, 'foreign_internal_key', 'names an internal key that is not the identity’s');
  }
}

function checkMultisigInput(
  tx: Transaction,
  i: number,
  key: KeyPath,
  wallets: readonly MultisigWallet[],
): void {
  const input = tx.getInput(i);
  const wallet = wallets.find((w) => w.name === key.wallet);
  if (!wallet) {
    refuse(i, 'foreign_witness_script', 'spends no registered wallet');
    return;
  }
  const derived = walletScripts(wallet, key.chain, key.index);
  if (!input.witnessScript || !equalBytes(input.witnessScript, derived.witnessScript))
    refuse(i, 'foreign_witness_script', "names a witness script that is not the registered wallet's");
  if (input.tapKeySig || input.tapScriptSig?.length || input.finalScriptWitness)
    refuse(i, 'already_signed', 'already carries a signature');
  const own = derived.pubkeys[wallet.warden]!;
  for (const [pub] of input.partialSig ?? []) {
    const other = derived.pubkeys.some((k, j) => j !== wallet.warden && equalBytes(k, pub));
    if (equalBytes(pub, own) || !other)
      refuse(i, 'already_signed', "already carries a signature that is not another cosigner's");
  }
}
