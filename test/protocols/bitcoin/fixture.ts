/**
 * A regtest identity of a fixed, public seed (the BIP-84 vector mnemonic), and PSBTs built for it
 * with @scure/btc-signer: the accounts, a fake vault that only lends the seed to the signer, and
 * a builder whose every part (inputs, outputs, claims) a hostile test can bend.
 */

import { hex } from '@scure/base';
import { HARDENED_OFFSET, HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { p2tr, p2wpkh, RawTx, Transaction } from '@scure/btc-signer';
import { seedPublic } from '../../../src/keys/derive.ts';
import type { Vault } from '../../../src/keys/vault.ts';
import type { IdentityView } from '../../../src/keys/view.ts';

export const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
export const SEED = mnemonicToSeedSync(MNEMONIC);
const ROOT = HDKey.fromMasterSeed(SEED);
export const FINGERPRINT = ROOT.fingerprint;

export function identityView(seed: Uint8Array = SEED, network = 'regtest'): IdentityView {
  const pub = seedPublic(seed, network as 'regtest');
  return {
    name: 'psbt-tester',
    createdAt: '2026-01-01T00:00:00.000Z',
    network,
    nostr: null,
    bitcoin: { fingerprint: pub.fingerprint, bip84: pub.bip84, bip86: pub.bip86 },
    evm: pub.evm,
    lightning: { configured: false, kind: null },
    keys: [],
  };
}

/** A vault that lends a copy of the seed to `fn`, and counts how often it was asked. */
export function seedVault(seed: Uint8Array = SEED): Vault & { uses: number } {
  const vault = {
    uses: 0,
    activePublic: (_name: string, purpose: string) =>
      purpose === 'seed' ? seedPublic(seed, 'regtest') : null,
    useSecret<T>(_name: string, _purpose: string, _mode: string, fn: (secret: Uint8Array) => T): T {
      vault.uses++;
      const copy = seed.slice();
      try {
        return fn(copy);
      } finally {
        copy.fill(0);
      }
    },
  };
  return vault as unknown as Vault & { uses: number };
}

const H = HARDENED_OFFSET;
export type Purpose = 84 | 86;
export const pathOf = (purpose: Purpose, chain: number, index: number, coin = 1) => [
  purpose + H,
  coin + H,
  H,
  chain,
  index,
];

export function keyAt(purpose: Purpose, chain: number, index: number, root: HDKey = ROOT): HDKey {
  return root.derive(`m/${purpose}'/1'/0'/${chain}/${index}`);
}

export function scriptAt(purpose: Purpose, chain: number, index: number, root: HDKey = ROOT): Uint8Array {
  const pub = keyAt(purpose, chain, index, root).publicKey!;
  return purpose === 84 ? p2wpkh(pub).script : p2tr(pub.subarray(1)).script;
}

/** The BIP-32 claim an input or output makes for a key of `purpose` (what a wallet would write). */
export function claimFor(
  purpose: Purpose,
  chain: number,
  index: number,
  pub: Uint8Array,
  fingerprint = FINGERPRINT,
) {
  const path = pathOf(purpose, chain, index);
  return purpose === 84
    ? {
        bip32Derivation: [[pub, { fingerprint, path }]] as [
          Uint8Array,
          { fingerprint: number; path: number[] },
        ][],
      }
    : {
        tapBip32Derivation: [[pub.subarray(1), { hashes: [], der: { fingerprint, path } }]] as [
          Uint8Array,
          { hashes: Uint8Array[]; der: { fingerprint: number; path: number[] } },
        ][],
      };
}

let counter = 0;
/** A previous transaction paying `amount` to `script` at output `vout` (other outputs pay 1,000 sat to it too). */
export function previousTx(
  script: Uint8Array,
  amount: bigint,
  vout = 0,
): { raw: Uint8Array; txid: Uint8Array } {
  counter++;
  const seedTxid = new Uint8Array(32);
  seedTxid[0] = counter & 0xff;
  seedTxid[1] = (counter >> 8) & 0xff;
  const outputs = Array.from({ length: vout + 1 }, (_, i) => ({
    amount: i === vout ? amount : 1_000n,
    script,
  }));
  const raw = RawTx.encode({
    version: 2,
    segwitFlag: false,
    inputs: [{ txid: seedTxid, index: 0, finalScriptSig: new Uint8Array(), sequence: 0xffffffff }],
    outputs,
    witnesses: undefined,
    lockTime: 0,
  });
  const txid = hex.decode(
    Transaction.fromRaw(raw, { allowUnknownInputs: true, disableScriptCheck: true }).id,
  );
  return { raw, txid };
}

export interface InputSpec {
  purpose: Purpose;
  chain?: number;
  index?: number;
  amount: bigint;
  /** Give the full previous transaction (default true). */
  previous?: boolean;
  /** Give witness_utxo (default true). */
  witness?: boolean;
  /** Override the witness_utxo amount (a lie). */
  witnessAmount?: bigint;
  sighashType?: number;
  /** Someone else's key (default: ours). */
  foreign?: HDKey;
}

export interface OutputSpec {
  script: Uint8Array;
  amount: bigint;
  claim?: Record<string, unknown>;
}

export const STRANGER = HDKey.fromMasterSeed(new Uint8Array(64).fill(7));

export function buildPsbt(inputs: InputSpec[], outputs: OutputSpec[], version: 0 | 2 = 0): string {
  const tx = new Transaction({ allowUnknownOutputs: true, version: 2 });
  for (const spec of inputs) {
    const chain = spec.chain ?? 0;
    const index = spec.index ?? 0;
    const root = spec.foreign ?? ROOT;
    const node = keyAt(spec.purpose, chain, index, root);
    const script = scriptAt(spec.purpose, chain, index, root);
    const prev = previousTx(script, spec.amount);
    tx.addInput({
      txid: prev.txid,
      index: 0,
      ...(spec.previous === false ? {} : { nonWitnessUtxo: prev.raw }),
      ...(spec.witness === false
        ? {}
        : { witnessUtxo: { script, amount: spec.witnessAmount ?? spec.amount } }),
      ...(spec.sighashType === undefined ? {} : { sighashType: spec.sighashType }),
      ...(spec.purpose === 86 ? { tapInternalKey: node.publicKey!.subarray(1) } : {}),
      ...claimFor(spec.purpose, chain, index, node.publicKey!, root.fingerprint),
    });
  }
  for (const o of outputs) tx.addOutput({ script: o.script, amount: o.amount, ...(o.claim ?? {}) });
  return Buffer.from(tx.toPSBT(version)).toString('base64');
}

/** A stranger's P2WPKH script: an external payee. */
export const PAYEE = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/5").publicKey!).script;
/** Our change output at m/84'/1'/0'/1/<index>, with its honest claim. */
export function changeOutput(amount: bigint, index = 0, purpose: Purpose = 84): OutputSpec {
  const pub = keyAt(purpose, 1, index).publicKey!;
  return { script: scriptAt(purpose, 1, index), amount, claim: claimFor(purpose, 1, index, pub) };
}
