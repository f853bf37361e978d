/**
 * The agent's side of the real-node test: a watch-only wallet of a Warden identity, built from
 * its public view (account xpubs and fingerprint), that spends real regtest coins with PSBTs made
 * by @scure/btc-signer, and a check of the signed result by bitcore-lib's script interpreter (an
 * implementation independent of both Warden and the library that built the PSBT).
 */
import { createRequire } from 'node:module';
import { HDKey } from '@scure/bip32';
import { p2tr, p2wpkh, Transaction } from '@scure/btc-signer';
import { verifySchnorr } from 'tiny-secp256k1';
import type { IdentityView } from '../../../src/keys/view.ts';
import { claimFor } from './fixture.ts';

const require = createRequire(import.meta.url);
// bitcore-lib ships no types; only Transaction, UnspentOutput and Script.Interpreter are used.
const bitcore = require('bitcore-lib') as any;
// bitcore-lib 11.5.1's BIP-340 verification rejects every valid signature by an output key whose
// x starts with a zero byte (about 1 key in 256): it hashes the lifted x without its leading zero
// (elliptic's BN ignores bitcore's `{ size: 32 }`). bitcore still computes the BIP-341 sighash;
// libsecp256k1 (Warden's PSBTs are signed by noble, through @scure/btc-signer) checks the signature.
bitcore.crypto.Schnorr.verify = (key: Buffer, sighash: Buffer, signature: { toBuffer(): Buffer }) =>
  verifySchnorr(sighash, key, signature.toBuffer().subarray(0, 64));

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };

export type Purpose = 84 | 86;

/** A coin on the chain: where it is, what it holds, and its previous transaction. */
export interface Coin {
  txid: string;
  vout: number;
  amount: bigint;
  script: Uint8Array;
  raw: Uint8Array;
  purpose: Purpose;
  chain: 0 | 1;
  index: number;
}

export interface Payment {
  script: Uint8Array;
  amount: bigint;
  /** A BIP-32 claim on the output (a hostile PSBT claims our change path for a foreign script). */
  claim?: ReturnType<typeof claimFor>;
}

export function watchOnlyWallet(keys: IdentityView) {
  const bitcoin = keys.bitcoin!;
  const fingerprint = Number.parseInt(bitcoin.fingerprint, 16);
  const accounts = {
    84: HDKey.fromExtendedKey(bitcoin.bip84.xpub, TEST_VERSIONS),
    86: HDKey.fromExtendedKey(bitcoin.bip86.xpub, TEST_VERSIONS),
  };
  const pubkey = (purpose: Purpose, chain: 0 | 1, index: number) =>
    accounts[purpose].deriveChild(chain).deriveChild(index).publicKey!;
  const script = (purpose: Purpose, chain: 0 | 1, index: number) => {
    const pub = pubkey(purpose, chain, index);
    return purpose === 84 ? p2wpkh(pub).script : p2tr(pub.subarray(1)).script;
  };
  /** Our own change output at <purpose>'/1'/0'/1/<index>, with its honest claim. */
  const change = (purpose: Purpose, amount: bigint, index = 0): Payment => ({
    script: script(purpose, 1, index),
    amount,
    claim: claimFor(purpose, 1, index, pubkey(purpose, 1, index), fingerprint),
  });

  /**
   * A PSBT spending `coins` to `outputs` (BIP-174 v0 unless asked for BIP-370 v2), with what the
   * analysis needs to prove each amount.
   */
  function spend(
    coins: Coin | Coin[],
    outputs: Payment[],
    version: 0 | 2 = 0,
    options: { taprootPrevious?: boolean } = {},
  ): string {
    const list = [coins].flat();
    // Segwit v0 amounts are proven by the previous transaction (CVE-2020-14199). Taproot
    // signatures commit to every amount, which Warden accepts as proof only when all inputs are
    // taproot: beside another kind, a taproot input carries its previous transaction too.
    const taprootPrevious = options.taprootPrevious ?? !list.every((c) => c.purpose === 86);
    const tx = new Transaction({ version: 2 });
    for (const coin of list) {
      const pub = pubkey(coin.purpose, coin.chain, coin.index);
      tx.addInput({
        txid: coin.txid,
        index: coin.vout,
        witnessUtxo: { script: coin.script, amount: coin.amount },
        ...(coin.purpose === 84 || taprootPrevious ? { nonWitnessUtxo: coin.raw } : {}),
        ...(coin.purpose === 86 ? { tapInternalKey: pub.subarray(1) } : {}),
        ...claimFor(coin.purpose, coin.chain, coin.index, pub, fingerprint),
      });
    }
    for (const o of outputs) tx.addOutput({ script: o.script, amount: o.amount, ...(o.claim ?? {}) });
    return Buffer.from(tx.toPSBT(version)).toString('base64');
  }

  return { fingerprint, pubkey, script, change, spend };
}

/** Finalizes a PSBT Warden signed and extracts the raw transaction. */
export function finalize(signedPsbt: string): Uint8Array {
  const tx = Transaction.fromPSBT(Buffer.from(signedPsbt, 'base64'));
  tx.finalize();
  return tx.extract();
}

// The consensus rules of a block after taproot: P2SH, strict DER, NULLDUMMY, CLTV, CSV, segwit, taproot.
const I = bitcore.Script.Interpreter;
const CONSENSUS_FLAGS =
  I.SCRIPT_VERIFY_P2SH |
  I.SCRIPT_VERIFY_DERSIG |
  I.SCRIPT_VERIFY_NULLDUMMY |
  I.SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
  I.SCRIPT_VERIFY_CHECKSEQUENCEVERIFY |
  I.SCRIPT_VERIFY_WITNESS |
  I.SCRIPT_VERIFY_TAPROOT;

/**
 * Runs bitcore-lib's interpreter over every input of `raw`, each spending the matching `coins`
 * entry; the interpreter's error (e.g. SCRIPT_ERR_SCHNORR_SIG) when one fails, null when all pass.
 */
export function interpreterError(raw: Uint8Array, coins: Coin[]): string | null {
  const tx = new bitcore.Transaction(Buffer.from(raw).toString('hex'));
  const utxos = coins.map(
    (c) =>
      new bitcore.Transaction.UnspentOutput({
        txid: c.txid,
        outputIndex: c.vout,
        // bitcore counts in JS numbers; every amount here is far below 2^53 sat.
        satoshis: Number(c.amount),
        script: new bitcore.Script(Buffer.from(c.script)),
      }),
  );
  // associateInputs replaces the inputs (dropping their witnesses): keep what the transaction carries.
  const carried = (tx.inputs as any[]).map((input) => ({
    script: input.script,
    witness: (input.getWitnesses() as Buffer[]).map((w) => Buffer.from(w)),
  }));
  // Taproot sighashes commit to the amounts and scripts of all spent outputs.
  tx.associateInputs(utxos);
  for (const [i, { script, witness }] of carried.entries()) {
    const interpreter = new I();
    const ok = interpreter.verify(
      script,
      utxos[i].script,
      tx,
      i,
      CONSENSUS_FLAGS,
      witness,
      utxos[i].satoshis,
    );
    if (!ok) return `input ${i}: ${interpreter.errstr}`;
  }
  return null;
}
