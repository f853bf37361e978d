import { HDKey } from '@scure/bip32';
import { p2tr, p2wpkh, Transaction } from '@scure/btc-signer';
import { equalBytes } from '@scure/btc-signer/utils.js';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { checkMultisigInput, multisigAccountPath } from './bitcoin-multisig-key.ts';
import { deriveWiping } from './derive.ts';
import { csprngBytes } from './random.ts';
import type { Vault } from './vault.ts';

/**
 * One input to sign and the key of the identity's that spends it: m/purpose'/coin'/0'/chain/index
 * for BIP-84 and BIP-86, m/48'/coin'/0'/2'/chain/index (the identity's key in a 2-of-3) for 48.
 */
export interface PsbtInputKey {
  input: number;
  purpose: 84 | 86 | 48;
  chain: 0 | 1;
  index: number;
  /**
   * The one sighash type this input is signed with, as the analysis judged it. Absent only in
   * intents judged before it was kept per input: `allowedSighash` then bounds it.
   */
  sighash?: number;
}

/**
 * Signs the given inputs of a PSBT with the identity's BIP-84 (P2WPKH) or BIP-86 (P2TR key path)
 * keys and returns the PSBT with the signatures added, in the version it came in. The PSBT comes as
 * bytes, or as the transaction the caller already decoded (it must have been read with the checks
 * this file reads with): that one is signed in place and is the caller's no longer. The caller (a
 * protocol's analysis) chose the inputs by re-deriving their scripts from the account xpubs; this
 * checks again, with the private key's own public key, that each input spends exactly the script
 * of that key, and signs nothing otherwise. Each sighash type must be in `allowedSighash`.
 *
 * The seed is unsealed only inside `useSecret` (wiped when the turn ends); every HD node and every
 * copy of a private key are wiped before returning, whatever happens.
 */
export function signPsbtInputs(
  vault: Vault,
  identity: string,
  coinType: 0 | 1,
  psbt: Uint8Array | Transaction,
  keys: readonly PsbtInputKey[],
  allowedSighash: readonly number[],
): Uint8Array {
  const tx = psbt instanceof Transaction ? readStrictly(psbt) : decodeStrictly(psbt);
  const version = tx.opts.PSBTVersion === 2 ? 2 : 0;
  return vault.useSecret(identity, 'seed', 'sign', (seed) => {
    const root = HDKey.fromMasterSeed(seed);
    try {
      for (const key of keys) signOne(tx, root, coinType, key, allowedSighash);
    } finally {
      root.wipePrivateData();
    }
    return tx.toPSBT(version);
  });
}

/** The options a PSBT is read with here: the library's checks, unknown output scripts let through. */
const SIGNING_OPTIONS = { allowUnknownOutputs: true } as const;

function decodeStrictly(psbt: Uint8Array): Transaction {
  try {
    return Transaction.fromPSBT(psbt, SIGNING_OPTIONS);
  } catch (err) {
    throw new WardenError('INVALID_ARGUMENT', 'the PSBT to sign does not decode', {}, { cause: err });
  }
}

/**
 * What reading with SIGNING_OPTIONS sets, and nothing else: a transaction decoded with weaker checks
 * (`disableScriptCheck`, unknown inputs, kept unknown fields) is not one to sign.
 */
const STRICT_OPTIONS: Readonly<Record<string, unknown>> = {
  allowUnknownOutputs: true,
  allowMissingTxModifiable: true,
  unknown: 'strip',
  proprietary: 'strip',
};
const TX_FIELDS = new Set(['version', 'lockTime', 'PSBTVersion']);

function readStrictly(tx: Transaction): Transaction {
  const weaker = Object.entries(tx.opts).some(
    ([name, value]) => !TX_FIELDS.has(name) && STRICT_OPTIONS[name] !== value,
  );
  if (weaker) throw new WardenError('INVALID_ARGUMENT', 'the PSBT to sign was read with weaker checks');
  return tx;
}

function spentScript(tx: Transaction, index: number): Uint8Array | undefined {
  const input = tx.getInput(index);
  return input.witnessUtxo?.script ?? input.nonWitnessUtxo?.outputs[input.index ?? -1]?.script;
}

function signOne(
  tx: Transaction,
  root: HDKey,
  coinType: 0 | 1,
  key: PsbtInputKey,
  allowedSighash: readonly number[],
): void {
  if (!Number.isSafeInteger(key.input) || key.input < 0 || key.input >= tx.inputsLength)
    throw new WardenError('INVALID_ARGUMENT', 'no such input', { input: key.input });
  if (!Number.isSafeInteger(key.index) || key.index < 0 || key.index >= 2 ** 31)
    throw new WardenError('INVALID_ARGUMENT', 'a key index is below 2^31', { input: key.input });
  const account = key.purpose === 48 ? multisigAccountPath(coinType) : `m/${key.purpose}'/${coinType}'/0'`;
  const node = deriveWiping(root, `${account}/${key.chain}/${key.index}`);
  let secretKey: Uint8Array | null = null;
  const aux = csprngBytes(32);
  try {
    const pub = node.publicKey;
    secretKey = node.privateKey; // a copy: wiped below
    if (!pub || !secretKey) throw new WardenError('INTERNAL', 'derived node has no key');
    const xOnly = pub.subarray(1);
    const script = spentScript(tx, key.input);
    if (key.purpose === 48) {
      if (!script)
        throw new WardenError('SIGNING_FAILED', 'the input names no spent output', { input: key.input });
      // One partial signature of a 2-of-3: never finalized here (the other cosigner completes it).
      checkMultisigInput(tx, key.input, script, pub);
    } else if (!script || !equalBytes(script, key.purpose === 84 ? p2wpkh(pub).script : p2tr(xOnly).script))
      throw new WardenError('SIGNING_FAILED', 'the input does not spend this key; nothing was signed', {
        input: key.input,
      });
    if (key.purpose === 86) {
      const input = tx.getInput(key.input);
      // BIP-86 keys have no script tree: a merkle root would make the library tweak another key.
      if (input.tapMerkleRoot)
        throw new WardenError('SIGNING_FAILED', 'a BIP-86 input has no script tree', { input: key.input });
      if (input.tapInternalKey && !equalBytes(input.tapInternalKey, xOnly))
        throw new WardenError('SIGNING_FAILED', 'the input names another internal key', { input: key.input });
      if (!input.tapInternalKey) tx.updateInput(key.input, { tapInternalKey: xOnly });
    }
    // The input's own judged type, when known, and never one outside the allowed set.
    const types = key.sighash === undefined ? [...allowedSighash] : [key.sighash];
    const asked = tx.getInput(key.input).sighashType ?? (key.purpose === 86 ? 0x00 : 0x01);
    if (!types.includes(asked) || !types.every((t) => allowedSighash.includes(t)))
      throw new WardenError('SIGHASH_NOT_ALLOWED', 'the input asks for a sighash type not allowed', {
        input: key.input,
      });
    if (!tx.signIdx(secretKey, key.input, types, aux))
      throw new WardenError('SIGNING_FAILED', 'the input was not signed', { input: key.input });
  } finally {
    wipe(secretKey, aux);
    node.wipePrivateData();
  }
}
