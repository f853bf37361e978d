/**
 * PSBTs that spend an identity's own coins, built from its public view only (account xpubs and
 * fingerprint, as `warden identity show` prints them): what an agent's wallet software would
 * hand Warden. Used where the identity's seed is random (the conformance checks).
 */
import { HDKey } from '@scure/bip32';
import { p2tr, p2wpkh, Transaction } from '@scure/btc-signer';
import type { IdentityView } from '../../../src/keys/view.ts';
import { claimFor, PAYEE, previousTx } from './fixture.ts';

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };

// Derivations and taproot tweaks are the slow part: the conformance checks build hundreds of PSBTs.
const KEYS = new Map<string, Uint8Array>();
const SCRIPTS = new Map<string, Uint8Array>();
function keyOf(xpub: string, chain: number, index: number): Uint8Array {
  const id = `${xpub}/${chain}/${index}`;
  let pub = KEYS.get(id);
  if (!pub) {
    pub = HDKey.fromExtendedKey(xpub, TEST_VERSIONS).deriveChild(chain).deriveChild(index).publicKey!;
    KEYS.set(id, pub);
  }
  return pub;
}
function scriptOf(purpose: 84 | 86, pub: Uint8Array): Uint8Array {
  const id = `${purpose}:${Buffer.from(pub).toString('hex')}`;
  let script = SCRIPTS.get(id);
  if (!script) {
    script = purpose === 84 ? p2wpkh(pub).script : p2tr(pub.subarray(1)).script;
    SCRIPTS.set(id, script);
  }
  return script;
}

export interface IdentityPsbt {
  purpose: 84 | 86;
  /** Amount of the one input, in sat. */
  amount: bigint;
  /** Paid to an external payee. */
  pay: bigint;
  fee: bigint;
  version: 0 | 2;
  index?: number;
  sighashType?: number;
  /** Leave out the previous transaction of a P2WPKH input (witness_utxo only). */
  witnessUtxoOnly?: boolean;
}

/** A one-input PSBT of the identity: pays `pay` to PAYEE, the rest minus `fee` back as change. */
export function identityPsbt(keys: IdentityView, spec: IdentityPsbt): string {
  const bitcoin = keys.bitcoin!;
  const fingerprint = Number.parseInt(bitcoin.fingerprint, 16);
  const xpub = spec.purpose === 84 ? bitcoin.bip84.xpub : bitcoin.bip86.xpub;
  const index = spec.index ?? 0;
  const key = (chain: number, i: number) => keyOf(xpub, chain, i);
  const script = (pub: Uint8Array) => scriptOf(spec.purpose, pub);
  const inputPub = key(0, index);
  const changePub = key(1, index);
  const prev = previousTx(script(inputPub), spec.amount);
  const tx = new Transaction({ version: 2 });
  tx.addInput({
    txid: prev.txid,
    index: 0,
    ...(spec.purpose === 84 && !spec.witnessUtxoOnly ? { nonWitnessUtxo: prev.raw } : {}),
    ...(spec.sighashType === undefined ? {} : { sighashType: spec.sighashType }),
    witnessUtxo: { script: script(inputPub), amount: spec.amount },
    ...(spec.purpose === 86 ? { tapInternalKey: inputPub.subarray(1) } : {}),
    ...claimFor(spec.purpose, 0, index, inputPub, fingerprint),
  });
  tx.addOutput({ script: PAYEE, amount: spec.pay });
  const change = spec.amount - spec.pay - spec.fee;
  if (change > 0n)
    tx.addOutput({
      script: script(changePub),
      amount: change,
      ...claimFor(spec.purpose, 1, index, changePub, fingerprint),
    });
  return Buffer.from(tx.toPSBT(spec.version)).toString('base64');
}
