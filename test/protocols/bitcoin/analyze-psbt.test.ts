import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hex } from '@scure/base';
import { p2pkh, p2wpkh, Transaction } from '@scure/btc-signer';
import { _RawPSBTV0 } from '@scure/btc-signer/psbt.js';
import { isWardenError } from '../../../src/core/errors.ts';
import { accountsOf, MAX_DERIVATIONS } from '../../../src/protocols/bitcoin/accounts.ts';
import {
  type AnalysisOptions,
  analyzePsbt,
  DEFAULT_ANALYSIS,
} from '../../../src/protocols/bitcoin/analyze-psbt.ts';
import { spentOutputs } from '../../../src/protocols/bitcoin/input-amounts.ts';
import { decodePsbt } from '../../../src/protocols/bitcoin/psbt-decode.ts';
import {
  buildPsbt,
  changeOutput,
  claimFor,
  identityView,
  keyAt,
  PAYEE,
  STRANGER,
  scriptAt,
} from './fixture.ts';

const ACCOUNTS = accountsOf(identityView());

function analyze(psbt: string, options: AnalysisOptions = DEFAULT_ANALYSIS) {
  const { tx, version } = decodePsbt(psbt);
  return analyzePsbt(tx, version, ACCOUNTS, options);
}

function refused(psbt: string, code: string, reason?: string, options?: AnalysisOptions) {
  assert.throws(
    () => analyze(psbt, options),
    (err: unknown) => {
      assert.ok(isWardenError(err), String(err));
      assert.equal(err.code, code, err.message);
      if (reason !== undefined) assert.equal(err.details.reason, reason);
      return true;
    },
  );
}

describe('a valid PSBT of the identity', () => {
  for (const version of [0, 2] as const) {
    test(`P2WPKH, v${version}: ours signed, change re-derived, fee and fee rate exact`, () => {
      const psbt = buildPsbt(
        [{ purpose: 84, index: 3, amount: 100_000n }],
        [{ script: PAYEE, amount: 60_000n }, changeOutput(38_590n, 2)],
        version,
      );
      const a = analyze(psbt);
      assert.equal(a.version, version);
      assert.equal(a.inputTotal, 100_000n);
      assert.equal(a.fee, 1_410n);
      assert.equal(a.changeTotal, 38_590n);
      assert.equal(a.externalTotal, 60_000n);
      assert.deepEqual(a.toSign, [{ input: 0, key: { account: 'bip84', chain: 0, index: 3 } }]);
      assert.deepEqual(
        a.outputs.map((o) => o.role),
        ['external', 'change'],
      );
      assert.match(a.outputs[0]!.address!, /^bcrt1q/);
      // 1 input, 2 P2WPKH outputs: 113 base bytes (unsigned) and a 108-byte witness → 141 vB.
      assert.equal(a.vsize, 141);
      assert.equal(a.feeRateMsatPerVb, (1_410n * 1000n) / 141n);
      assert.equal(a.sighash, 'all');
      assert.equal(a.amountProof, 'full');
    });
  }

  test('P2TR only: witness_utxo amounts suffice (every input taproot, SIGHASH_DEFAULT)', () => {
    const psbt = buildPsbt(
      [
        { purpose: 86, index: 0, amount: 50_000n, previous: false },
        { purpose: 86, index: 1, amount: 20_000n, previous: false, foreign: STRANGER },
      ],
      [{ script: PAYEE, amount: 40_000n }, changeOutput(29_000n, 0, 86)],
    );
    const a = analyze(psbt);
    assert.deepEqual(
      a.toSign.map((t) => t.input),
      [0],
    );
    assert.equal(a.fee, 1_000n);
    assert.deepEqual(
      a.inputs.map((i) => i.proof),
      ['taproot_commitment', 'taproot_commitment'],
    );
  });

  test('an output to our own receive chain is not change: it counts as spent', () => {
    const pub = keyAt(84, 0, 9).publicKey!;
    const psbt = buildPsbt(
      [{ purpose: 84, amount: 10_000n }],
      [{ script: scriptAt(84, 0, 9), amount: 9_000n, claim: claimFor(84, 0, 9, pub) }],
    );
    const a = analyze(psbt);
    assert.equal(a.changeTotal, 0n);
    assert.equal(a.externalTotal, 9_000n);
  });
});

describe('hostile PSBTs are refused before anything is signed', () => {
  test('fake change: our fingerprint and path claimed for a stranger’s key is external', () => {
    const foreignPub = STRANGER.derive("m/84'/1'/0'/1/0").publicKey!;
    const psbt = buildPsbt(
      [{ purpose: 84, amount: 100_000n }],
      [
        { script: PAYEE, amount: 1_000n },
        // The claim is ours (fingerprint and path), the key and script are the stranger's.
        { script: p2wpkh(foreignPub).script, amount: 98_000n, claim: claimFor(84, 1, 0, foreignPub) },
      ],
    );
    const a = analyze(psbt);
    assert.equal(a.changeTotal, 0n);
    assert.equal(a.externalTotal, 99_000n);
    assert.equal(a.outputs[1]!.role, 'external');
  });

  test('a claimed path of ours with our own key but another output script is not change', () => {
    const ourPub = keyAt(84, 1, 0).publicKey!;
    const psbt = buildPsbt(
      [{ purpose: 84, amount: 100_000n }],
      [{ script: PAYEE, amount: 98_000n, claim: claimFor(84, 1, 0, ourPub) }],
    );
    assert.equal(analyze(psbt).outputs[0]!.role, 'external');
  });

  test('witness_utxo amount lie against the previous transaction: refused at decode, and by our own check', () => {
    const honest = buildPsbt(
      [{ purpose: 84, amount: 100_000n }],
      [{ script: PAYEE, amount: 150_000n - 51_000n }],
    );
    const raw = _RawPSBTV0.decode(Buffer.from(honest, 'base64'));
    raw.inputs[0]!.witnessUtxo!.amount = 200_000n;
    const lying = Buffer.from(_RawPSBTV0.encode(raw)).toString('base64');
    // The library already refuses a PSBT whose two utxo fields disagree.
    assert.throws(
      () => decodePsbt(lying),
      (e: unknown) => isWardenError(e, 'INVALID_REQUEST') && e.details.reason === 'not_psbt',
    );
    // Our own check does not rely on it: the same input, handed over as a library would if it did not check.
    const { tx } = decodePsbt(honest);
    const input = { ...tx.getInput(0), witnessUtxo: { ...tx.getInput(0).witnessUtxo!, amount: 200_000n } };
    const lyingTx = new Proxy(tx, {
      get: (target, key) => (key === 'getInput' ? () => input : Reflect.get(target, key, target)),
    });
    assert.throws(
      () =>
        spentOutputs(
          lyingTx,
          () => true,
          () => 1,
          false,
        ),
      (e: unknown) =>
        isWardenError(e, 'INPUT_AMOUNT_UNPROVEN') && e.details.reason === 'witness_utxo_disagrees',
    );
  });

  test('segwit v0 without its previous transaction (CVE-2020-14199), unless opted in', () => {
    const psbt = buildPsbt(
      [{ purpose: 84, amount: 100_000n, previous: false }],
      [{ script: PAYEE, amount: 99_000n }],
    );
    refused(psbt, 'INPUT_AMOUNT_UNPROVEN', 'segwit_v0_needs_previous_tx');
    const a = analyze(psbt, { ...DEFAULT_ANALYSIS, allowWitnessUtxoAmounts: true });
    assert.equal(a.amountProof, 'witness_utxo');
  });

  test('taproot with witness_utxo only, next to a segwit v0 input: every amount must be proven', () => {
    const psbt = buildPsbt(
      [
        { purpose: 86, amount: 50_000n, previous: false },
        { purpose: 84, amount: 50_000n },
      ],
      [{ script: PAYEE, amount: 99_000n }],
    );
    refused(psbt, 'INPUT_AMOUNT_UNPROVEN', 'taproot_needs_previous_tx');
  });

  test('a previous transaction that is not the outpoint’s', () => {
    const { tx } = decodePsbt(
      buildPsbt([{ purpose: 84, amount: 100_000n }], [{ script: PAYEE, amount: 99_000n }]),
    );
    const other = decodePsbt(
      buildPsbt([{ purpose: 84, amount: 100_000n }], [{ script: PAYEE, amount: 99_000n }]),
    );
    const input = { ...tx.getInput(0), nonWitnessUtxo: other.tx.getInput(0).nonWitnessUtxo! };
    const swapped = new Proxy(tx, {
      get: (target, key) => (key === 'getInput' ? () => input : Reflect.get(target, key, target)),
    });
    assert.throws(
      () => analyzePsbt(swapped, 0, ACCOUNTS),
      (e: unknown) =>
        isWardenError(e, 'INPUT_AMOUNT_UNPROVEN') && e.details.reason === 'previous_tx_mismatch',
    );
  });

  for (const [name, type] of [
    ['NONE', 0x02],
    ['SINGLE', 0x03],
    ['ALL|ANYONECANPAY', 0x81],
    ['NONE|ANYONECANPAY', 0x82],
    ['SINGLE|ANYONECANPAY', 0x83],
  ] as const) {
    test(`SIGHASH_${name} on our input, unless allowed by name`, () => {
      const psbt = buildPsbt(
        [{ purpose: 84, amount: 100_000n, sighashType: type }],
        [{ script: PAYEE, amount: 99_000n }],
      );
      refused(psbt, 'SIGHASH_NOT_ALLOWED');
      const facet = name.toLowerCase().replace('|', '_');
      const a = analyze(psbt, { ...DEFAULT_ANALYSIS, allowSighash: [facet] });
      assert.equal(a.sighash, facet);
    });
  }

  test('an absurd fee: above the absolute cap, and above the fee-rate cap', () => {
    refused(
      buildPsbt([{ purpose: 84, amount: 10_000_000n }], [{ script: PAYEE, amount: 1_000n }]),
      'FEE_TOO_HIGH',
    );
    // 200,000 sat on 141 vB is ~1,418 sat/vB: under the absolute cap, over the rate cap.
    refused(
      buildPsbt([{ purpose: 84, amount: 300_000n }], [{ script: PAYEE, amount: 100_000n }]),
      'FEE_TOO_HIGH',
    );
  });

  test('outputs spending more than the inputs bring', () => {
    refused(
      buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: PAYEE, amount: 20_000n }]),
      'FEE_INVALID',
    );
  });

  test('dust, at each script type’s threshold', () => {
    refused(buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: PAYEE, amount: 293n }]), 'DUST_OUTPUT');
    assert.equal(
      analyze(buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: PAYEE, amount: 294n }])).fee,
      9_706n,
    );
    refused(
      buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: scriptAt(86, 0, 0, STRANGER), amount: 329n }]),
      'DUST_OUTPUT',
    );
  });

  test('OP_RETURN: 80 bytes of data pass, 81 are refused', () => {
    const opReturn = (n: number) => hex.decode(`6a4c${n.toString(16).padStart(2, '0')}${'ab'.repeat(n)}`);
    const ok = analyze(
      buildPsbt(
        [{ purpose: 84, amount: 10_000n }],
        [
          { script: opReturn(80), amount: 0n },
          { script: PAYEE, amount: 9_000n },
        ],
      ),
    );
    assert.equal(ok.outputs[0]!.role, 'data');
    refused(
      buildPsbt(
        [{ purpose: 84, amount: 10_000n }],
        [
          { script: opReturn(81), amount: 0n },
          { script: PAYEE, amount: 9_000n },
        ],
      ),
      'DATA_OUTPUT_TOO_LARGE',
    );
  });

  test('a non-standard output script', () => {
    refused(
      buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: hex.decode('51'), amount: 9_000n }]),
      'OUTPUT_UNSUPPORTED',
    );
  });

  test('nothing of ours: a stranger’s inputs, even with our fingerprint claimed', () => {
    refused(
      buildPsbt([{ purpose: 84, amount: 10_000n, foreign: STRANGER }], [{ script: PAYEE, amount: 9_000n }]),
      'NOTHING_TO_SIGN',
    );
  });
});

describe('hostile PSBTs that would cost Warden time or count money twice', () => {
  test('thousands of claims of our paths are refused once past the derivation budget', () => {
    const tx = decodePsbt(buildPsbt([{ purpose: 86, amount: 10_000_000n, previous: false }], [])).tx;
    // Taproot outputs claiming BIP-86 paths of ours, each to a script that is not that key's.
    for (let i = 0; i < MAX_DERIVATIONS + 5; i++) {
      const pub = keyAt(86, 1, i).publicKey!;
      tx.addOutput({ script: scriptAt(86, 0, i, STRANGER), amount: 1_000n, ...claimFor(86, 1, i, pub) });
    }
    const started = performance.now();
    assert.throws(
      () => analyzePsbt(tx, 0, ACCOUNTS),
      (e: unknown) => isWardenError(e, 'INVALID_REQUEST') && e.details.reason === 'too_many_claims',
    );
    assert.ok(performance.now() - started < 2_000);
  });

  test('P2WPKH claims whose key is not the script’s are not even derived', () => {
    const tx = decodePsbt(buildPsbt([{ purpose: 84, amount: 10_000_000n }], [])).tx;
    for (let i = 0; i < MAX_DERIVATIONS + 5; i++) {
      const pub = keyAt(84, 1, i).publicKey!;
      tx.addOutput({ script: PAYEE, amount: 1_000n, ...claimFor(84, 1, i, pub) });
    }
    const a = analyzePsbt(tx, 0, ACCOUNTS, {
      ...DEFAULT_ANALYSIS,
      maxFeeSat: 10_000_000n,
      maxFeeRateMsatPerVb: 10n ** 9n,
    });
    assert.equal(a.changeTotal, 0n);
  });

  test('the same outpoint spent twice', () => {
    const { tx } = decodePsbt(
      buildPsbt([{ purpose: 84, amount: 10_000n }], [{ script: PAYEE, amount: 9_000n }]),
    );
    const first = tx.getInput(0);
    tx.addInput({
      txid: first.txid!,
      index: first.index!,
      witnessUtxo: first.witnessUtxo!,
      nonWitnessUtxo: first.nonWitnessUtxo!,
    });
    assert.throws(
      () => analyzePsbt(tx, 0, ACCOUNTS),
      (e: unknown) => isWardenError(e, 'INVALID_REQUEST') && e.details.reason === 'duplicate_input',
    );
  });
});

describe('amount proofs, case by case', () => {
  test('taproot with ANYONECANPAY needs the previous transactions: the commitment to other inputs is gone', () => {
    const psbt = buildPsbt(
      [{ purpose: 86, amount: 50_000n, previous: false, sighashType: 0x81 }],
      [{ script: PAYEE, amount: 49_000n }],
    );
    refused(psbt, 'INPUT_AMOUNT_UNPROVEN', 'taproot_needs_previous_tx', {
      ...DEFAULT_ANALYSIS,
      allowSighash: ['all_anyonecanpay'],
    });
  });

  test('taproot with its previous transaction is proven by it, ANYONECANPAY or not', () => {
    const psbt = buildPsbt(
      [{ purpose: 86, amount: 50_000n, sighashType: 0x81 }],
      [{ script: PAYEE, amount: 49_000n }],
    );
    const a = analyze(psbt, { ...DEFAULT_ANALYSIS, allowSighash: ['all_anyonecanpay'] });
    assert.equal(a.inputs[0]!.proof, 'previous_tx');
    assert.equal(a.sighash, 'all_anyonecanpay');
  });

  test('a legacy (P2PKH) input with witness_utxo only is never taken at its word', () => {
    const legacy = p2pkh(STRANGER.derive("m/44'/1'/0'/0/0").publicKey!).script;
    const tx = new Transaction({ allowUnknownOutputs: true, allowLegacyWitnessUtxo: true });
    tx.addInput({
      txid: new Uint8Array(32).fill(3),
      index: 0,
      witnessUtxo: { script: legacy, amount: 50_000n },
    });
    const ours = decodePsbt(buildPsbt([{ purpose: 84, amount: 10_000n }], [])).tx.getInput(0);
    tx.addInput(ours);
    tx.addOutput({ script: PAYEE, amount: 59_000n });
    const b64 = Buffer.from(tx.toPSBT()).toString('base64');
    // Refused by our own amount rule (the library decodes it, allowLegacyWitnessUtxo aside).
    refused(b64, 'INPUT_AMOUNT_UNPROVEN', 'legacy_needs_previous_tx');
  });
});

test('SIGHASH_SINGLE on an input with no output of its index is refused even when allowed by name', () => {
  const psbt = buildPsbt(
    [
      { purpose: 84, amount: 10_000n, foreign: STRANGER },
      { purpose: 84, amount: 10_000n, sighashType: 0x03 },
    ],
    [{ script: PAYEE, amount: 19_000n }],
  );
  refused(psbt, 'SIGHASH_NOT_ALLOWED', undefined, { ...DEFAULT_ANALYSIS, allowSighash: ['single'] });
});
