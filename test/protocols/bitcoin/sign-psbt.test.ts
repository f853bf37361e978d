import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { Address, NETWORK, OutScript, RawWitness, TEST_NETWORK, Transaction } from '@scure/btc-signer';
import { RawPSBTV0 } from '@scure/btc-signer/psbt.js';
import { isWardenError } from '../../../src/core/errors.ts';
import { signerFor } from '../../../src/keys/capabilities.ts';
import { signPsbtOperation as op } from '../../../src/protocols/bitcoin/sign-psbt/operation.ts';
import {
  buildPsbt,
  changeOutput,
  FINGERPRINT,
  identityView,
  keyAt,
  PAYEE,
  pathOf,
  SEED,
  STRANGER,
  seedVault,
} from './fixture.ts';

const KEYS = identityView();
const ctx = { identity: 'psbt-tester', publicKeys: KEYS, backend: null };

async function signed(psbt: string) {
  const parsed = op.parse({ psbt }, new Date());
  const intent = await op.toIntent(parsed, ctx);
  const vault = seedVault();
  const outcome = op.sign!(parsed, intent, signerFor(vault, 'psbt-tester', 'bitcoin-psbt'));
  assert.equal(outcome.status, 'done', JSON.stringify(outcome));
  const result = (
    outcome as unknown as { result: { psbt: string; signedInputs: number[]; txid: string; fee: string } }
  ).result;
  return { parsed, intent, result, vault, tx: Transaction.fromPSBT(Buffer.from(result.psbt, 'base64')) };
}

function spentOf(tx: Transaction) {
  return Array.from({ length: tx.inputsLength }, (_, i) => tx.getInput(i).witnessUtxo!);
}

describe('bitcoin.sign_psbt signs the identity’s inputs, and the signatures verify independently', () => {
  for (const version of [0, 2] as const) {
    test(`P2WPKH (v${version}): ECDSA over the BIP-143 sighash, verified with noble; finalized and extracted`, async () => {
      const psbt = buildPsbt(
        [
          { purpose: 84, index: 4, amount: 100_000n },
          { purpose: 84, amount: 30_000n, foreign: STRANGER },
        ],
        [{ script: PAYEE, amount: 60_000n }, changeOutput(68_000n, 1)],
        version,
      );
      const { intent, result, tx, vault } = await signed(psbt);
      assert.equal(vault.uses, 1, 'the seed is lent once');
      assert.equal(intent.amount, 60_000n);
      assert.equal(intent.maxFee, 2_000n);
      assert.equal(intent.destinations.length, 1);
      assert.match(intent.destinations[0]!, /^bcrt1q/);
      const { vsize } = intent.detail as { vsize: number };
      assert.ok(vsize > 100 && vsize < 400, `a plausible size for 3 inputs and 2 outputs: ${vsize}`);
      assert.deepEqual(intent.facets, {
        network: 'regtest',
        sighash: 'all',
        wallet: 'single_key',
        amount_proof: 'full',
        // The quantities a rule may cap: the fee, and the rate over the estimated size, rounded up
        // (in sat/vB and in msat/vB); no node is configured, so there is no estimate to compare.
        max_fee: 2_000n,
        max_fee_rate: (2_000n + BigInt(vsize) - 1n) / BigInt(vsize),
        fee_rate_msat_vb: (2_000_000n + BigInt(vsize) - 1n) / BigInt(vsize),
        fee_estimate_msat_vb: null,
      });
      assert.deepEqual(result.signedInputs, [0]);
      assert.equal(result.fee, '2000');
      assert.equal(tx.opts.PSBTVersion, version);
      assert.equal(tx.getInput(1).partialSig, undefined, 'the stranger’s input is not signed');

      const [pubkey, sig] = tx.getInput(0).partialSig![0]!;
      assert.deepEqual(pubkey, keyAt(84, 0, 4).publicKey!);
      assert.equal(sig[sig.length - 1], 0x01, 'SIGHASH_ALL');
      const hash = OutScript.decode(tx.getInput(0).witnessUtxo!.script) as { hash: Uint8Array };
      const digest = tx.preimageWitnessV0(
        0,
        OutScript.encode({ type: 'pkh', hash: hash.hash }),
        0x01,
        100_000n,
      );
      assert.ok(secp256k1.verify(sig.subarray(0, -1), digest, pubkey, { prehash: false, format: 'der' }));

      tx.finalizeIdx(0);
      const witness = tx.getInput(0).finalScriptWitness!;
      assert.equal(witness.length, 2);
      assert.deepEqual(witness[0], sig);
      assert.deepEqual(witness[1], pubkey);
      assert.equal(tx.id, result.txid, 'the txid does not change with segwit signatures');
    });
  }

  test('P2TR key path: Schnorr over the BIP-341 sighash against the BIP-86 output key; finalized', async () => {
    const psbt = buildPsbt(
      [
        { purpose: 86, index: 2, amount: 80_000n, previous: false },
        { purpose: 86, index: 3, amount: 20_000n, previous: false },
      ],
      [{ script: PAYEE, amount: 50_000n }, changeOutput(49_000n, 5, 86)],
      2,
    );
    const { result, tx, intent } = await signed(psbt);
    assert.deepEqual(result.signedInputs, [0, 1]);
    const spent = spentOf(tx);
    for (const i of [0, 1]) {
      const sig = tx.getInput(i).tapKeySig!;
      assert.equal(sig.length, 64, 'SIGHASH_DEFAULT: no sighash byte');
      const digest = tx.preimageWitnessV1(
        i,
        spent.map((s) => s.script),
        0x00,
        spent.map((s) => s.amount),
      );
      const outputKey = (OutScript.decode(spent[i]!.script) as { pubkey: Uint8Array }).pubkey;
      assert.ok(schnorr.verify(sig, digest, outputKey));
    }
    tx.finalize();
    const extracted = Transaction.fromRaw(tx.extract());
    assert.equal(extracted.vsize, (intent.detail as { vsize: number }).vsize, 'P2TR key-path size is exact');
    assert.equal(extracted.id, result.txid);
    const witness = RawWitness.decode(RawWitness.encode(extracted.getInput(0).finalScriptWitness!));
    assert.equal(witness.length, 1);
    assert.equal(witness[0]!.length, 64);
  });

  test('the size estimated before signing is the signed size (P2WPKH: within a DER byte)', async () => {
    for (let index = 0; index < 8; index++) {
      const psbt = buildPsbt(
        [{ purpose: 84, index, amount: 100_000n }],
        [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
      );
      const { intent, tx } = await signed(psbt);
      tx.finalize();
      const actual = Transaction.fromRaw(tx.extract()).vsize;
      const estimate = (intent.detail as { vsize: number }).vsize;
      assert.ok(estimate - actual >= 0 && estimate - actual <= 1, `${estimate} vs ${actual}`);
    }
  });

  test('sign refuses an intent judged for another PSBT, and a signer of another seed', async () => {
    const a = buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: PAYEE, amount: 9_000n }]);
    const b = buildPsbt([{ purpose: 84, index: 1, amount: 10_000n }], [{ script: PAYEE, amount: 9_000n }]);
    const pa = op.parse({ psbt: a }, new Date());
    const pb = op.parse({ psbt: b }, new Date());
    const intentB = await op.toIntent(pb, ctx);
    const vault = seedVault();
    const outcome = op.sign!(pa, intentB, signerFor(vault, 'x', 'bitcoin-psbt'));
    assert.equal(outcome.status, 'failed');
    assert.equal(vault.uses, 0, 'nothing was unsealed');
    const other = seedVault(new Uint8Array(64).fill(9));
    const wrongSeed = op.sign!(pb, intentB, signerFor(other, 'x', 'bitcoin-psbt'));
    assert.equal(wrongSeed.status, 'failed');
    assert.equal(other.uses, 0);
  });

  test('the signer itself refuses an input that does not spend the key it is told to use', () => {
    const psbt = buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: PAYEE, amount: 9_000n }]);
    const signer = signerFor(seedVault(), 'x', 'bitcoin-psbt');
    assert.throws(
      () =>
        signer.signInputs(Buffer.from(psbt, 'base64'), [{ input: 0, purpose: 84, chain: 0, index: 1 }], [1]),
      (e: unknown) => isWardenError(e, 'SIGNING_FAILED'),
    );
  });

  test('the signer signs a decoded transaction handed to it as it signs the bytes, if read with full checks', () => {
    const psbt = buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: PAYEE, amount: 9_000n }]);
    const bytes = Buffer.from(psbt, 'base64');
    const key = [{ input: 0, purpose: 84, chain: 0, index: 0 }] as const;
    const signer = signerFor(seedVault(), 'x', 'bitcoin-psbt');
    const fromBytes = signer.signInputs(bytes, key, [1]);
    const handed = Transaction.fromPSBT(bytes, { allowUnknownOutputs: true });
    assert.deepEqual(signer.signInputs(handed, key, [1]), fromBytes, 'ECDSA (RFC 6979) is deterministic');
    assert.equal(handed.getInput(0).partialSig?.length, 1, 'signed in place');
    for (const weaker of [
      { disableScriptCheck: true },
      { allowUnknownInputs: true },
      { unknown: 'ignore' },
    ] as const) {
      const tx = Transaction.fromPSBT(bytes, { allowUnknownOutputs: true, ...weaker });
      assert.throws(
        () => signer.signInputs(tx, key, [1]),
        (e: unknown) => isWardenError(e, 'INVALID_ARGUMENT'),
        JSON.stringify(weaker),
      );
      assert.equal(tx.getInput(0).partialSig, undefined, 'nothing signed');
    }
  });

  test('the wallet facet: inputs of the single-key accounts are single_key', async () => {
    const psbt = buildPsbt(
      [
        { purpose: 84, amount: 10_000n },
        { purpose: 86, amount: 10_000n },
      ],
      [{ script: PAYEE, amount: 19_000n }],
    );
    const intent = await op.toIntent(op.parse({ psbt }, new Date()), ctx);
    assert.equal(intent.facets?.wallet, 'single_key');
  });

  test('encode/decode round trip and the review names what leaves', async () => {
    const psbt = buildPsbt(
      [{ purpose: 84, amount: 100_000n }],
      [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
    );
    const parsed = op.parse({ psbt, idempotencyKey: 'k-1' }, new Date());
    assert.deepEqual(op.decode(op.encode(parsed)), parsed);
    const intent = await op.toIntent(parsed, ctx);
    const review = op.review(parsed, intent, KEYS);
    assert.match(
      review.summary,
      /sign 1 of 1 inputs .* paying 60,000 sat to bcrt1q.*fee 1,000 sat .* 39,000 sat back as change/,
    );
  });

  test('payTo: the declared payees must be exactly the external outputs, on the identity’s network', async () => {
    const psbt = buildPsbt(
      [{ purpose: 84, amount: 100_000n }],
      [{ script: PAYEE, amount: 60_000n }, changeOutput(39_000n)],
    );
    const intent = await op.toIntent(op.parse({ psbt }, new Date()), ctx);
    const payee = intent.destinations[0]!;
    await op.toIntent(op.parse({ psbt, payTo: [payee] }, new Date()), ctx);
    await op.toIntent(op.parse({ psbt, payTo: [payee.toUpperCase()] }, new Date()), ctx);
    const refusedWith = async (payTo: string[], code: string) =>
      assert.rejects(op.toIntent(op.parse({ psbt, payTo }, new Date()), ctx), (e: unknown) =>
        isWardenError(e, code as never),
      );
    // The same script on mainnet and testnet: valid addresses, of other networks.
    const mainnet = Address(NETWORK).encode(OutScript.decode(PAYEE));
    const testnet = Address(TEST_NETWORK).encode(OutScript.decode(PAYEE));
    assert.match(mainnet, /^bc1q/);
    await refusedWith([mainnet], 'INVALID_ADDRESS');
    await refusedWith([testnet], 'INVALID_ADDRESS');
    await refusedWith([payee.slice(0, 10) + payee.slice(10).toUpperCase()], 'INVALID_ADDRESS');
    await refusedWith([intent.destinations[0]!, intent.destinations[0]!], 'DESTINATION_DENIED');
  });
});

test('a PSBT naming an extended key of another network (PSBT_GLOBAL_XPUB) is refused', async () => {
  const psbt = buildPsbt([{ purpose: 84, amount: 100_000n }], [{ script: PAYEE, amount: 99_000n }]);
  const account = HDKey.fromMasterSeed(SEED).derive("m/84'/1'/0'");
  const withXpub = (version: number) => {
    const raw = RawPSBTV0.decode(Buffer.from(psbt, 'base64'));
    (raw.global as { xpub?: unknown }).xpub = [
      [
        {
          version,
          depth: account.depth,
          parentFingerprint: account.parentFingerprint,
          childNumber: account.index,
          chainCode: account.chainCode!,
          publicKey: account.publicKey!,
        },
        { fingerprint: FINGERPRINT, path: pathOf(84, 0, 0).slice(0, 3) },
      ],
    ];
    return Buffer.from(RawPSBTV0.encode(raw)).toString('base64');
  };
  await op.toIntent(op.parse({ psbt: withXpub(0x043587cf) }, new Date()), ctx); // tpub: regtest's
  await assert.rejects(
    op.toIntent(op.parse({ psbt: withXpub(0x0488b21e) }, new Date()), ctx), // xpub: mainnet's
    (e: unknown) => isWardenError(e, 'INVALID_REQUEST') && e.details.reason === 'other_network',
  );
});
