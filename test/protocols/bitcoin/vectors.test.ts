import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { hex } from '@scure/base';
import { type ErrorCode, isWardenError } from '../../../src/core/errors.ts';
import { accountsOf } from '../../../src/protocols/bitcoin/accounts.ts';
import { scriptOfAddress } from '../../../src/protocols/bitcoin/addresses.ts';
import { analyzePsbt } from '../../../src/protocols/bitcoin/analyze-psbt.ts';
import type { BitcoinNetwork } from '../../../src/protocols/bitcoin/networks.ts';
import { decodePsbt } from '../../../src/protocols/bitcoin/psbt-decode.ts';
import { identityView } from './fixture.ts';

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8'));
const BIP174 = load('bip174.from-spec.json');
const BIP370 = load('bip370.from-spec.json');
const BIP173 = load('bip173.from-spec.json');
const BIP350 = load('bip350.from-spec.json');

type Case = { description: string | null; base64: string };

function refusedAsRequest(b64: string) {
  assert.throws(
    () => decodePsbt(b64),
    (e: unknown) => isWardenError(e, 'INVALID_REQUEST') && e.details.field === 'psbt',
  );
}

describe('BIP-174 (PSBT v0) vectors', () => {
  test('every valid PSBT decodes as version 0', () => {
    for (const c of BIP174.valid as Case[])
      assert.equal(decodePsbt(c.base64).version, 0, c.description ?? '');
  });
  test('every invalid PSBT is refused with INVALID_REQUEST', () => {
    for (const c of BIP174.invalid as Case[]) refusedAsRequest(c.base64);
  });
  test('the PSBTs that fail signer checks are refused for what they are, not for whose keys they hold', () => {
    // The vectors' keys are not the identity's: NOTHING_TO_SIGN would prove nothing. Each must be
    // refused by the check it is about, before ownership is even asked.
    const expected: Record<string, [ErrorCode, string]> = {
      'A Witness UTXO is provided for a non-witness input': [
        'INPUT_AMOUNT_UNPROVEN',
        'legacy_needs_previous_tx',
      ],
      // The library checks redeem and witness scripts against the spent script as it decodes.
      'redeemScript with non-witness UTXO does not match the scriptPubKey': ['INVALID_REQUEST', 'not_psbt'],
      'redeemScript with witness UTXO does not match the scriptPubKey': ['INVALID_REQUEST', 'not_psbt'],
      'witnessScript with witness UTXO does not match the redeemScript': ['INVALID_REQUEST', 'not_psbt'],
    };
    const accounts = accountsOf(identityView(undefined, 'testnet'));
    const cases = BIP174.valid_but_fail_signer_checks as Case[];
    assert.equal(cases.length, Object.keys(expected).length);
    for (const c of cases) {
      const [code, reason] = expected[c.description ?? '']!;
      assert.throws(
        () => {
          const { tx, version } = decodePsbt(c.base64);
          analyzePsbt(tx, version, accounts);
        },
        (e: unknown) => isWardenError(e, code) && e.details.reason === reason,
        c.description ?? '',
      );
    }
  });
});

describe('BIP-370 (PSBT v2) vectors', () => {
  test('every valid PSBT decodes as version 2', () => {
    for (const c of BIP370.valid as Case[])
      assert.equal(decodePsbt(c.base64).version, 2, c.description ?? '');
  });
  test('every invalid PSBT is refused with INVALID_REQUEST', () => {
    for (const c of BIP370.invalid as Case[]) refusedAsRequest(c.base64);
  });
});

const NETWORK_OF_HRP: Record<string, BitcoinNetwork> = { bc: 'bitcoin', tb: 'testnet', bcrt: 'regtest' };

describe('BIP-173 / BIP-350 addresses, read for one network', () => {
  test('valid BIP-350 segwit addresses give their scriptPubKey on their network, and nothing on another', () => {
    let checked = 0;
    for (const v of BIP350.valid_segwit_addresses as { string: string; scriptPubKey: string }[]) {
      const network = NETWORK_OF_HRP[v.string.toLowerCase().split('1')[0]!];
      if (!network) continue; // other human-readable parts are no network of ours
      // Only the standard programs Warden pays to: v0 of 20 or 32 bytes, v1 of 32 bytes (taproot).
      // Other versions and lengths are valid bech32m but pay to no known script: refused.
      const standard = /^(0014.{40}|0020.{64}|5120.{64})$/.test(v.scriptPubKey);
      if (!standard) {
        assert.throws(
          () => scriptOfAddress(v.string, network, 'a'),
          (e: unknown) => isWardenError(e, 'INVALID_ADDRESS'),
        );
        continue;
      }
      assert.equal(hex.encode(scriptOfAddress(v.string, network, 'a')), v.scriptPubKey, v.string);
      const other: BitcoinNetwork = network === 'bitcoin' ? 'regtest' : 'bitcoin';
      assert.throws(
        () => scriptOfAddress(v.string, other, 'a'),
        (e: unknown) => isWardenError(e, 'INVALID_ADDRESS'),
      );
      checked++;
    }
    assert.ok(checked >= 4);
  });

  test('invalid segwit addresses (BIP-173 and BIP-350) are refused on every network', () => {
    const invalid = [...BIP173.invalid_segwit_addresses, ...BIP350.invalid_segwit_addresses] as {
      string: string;
    }[];
    for (const v of invalid)
      for (const network of ['bitcoin', 'testnet', 'regtest'] as const)
        assert.throws(
          () => scriptOfAddress(v.string, network, 'a'),
          (e: unknown) => isWardenError(e, 'INVALID_ADDRESS'),
          v.string,
        );
  });

  test('BIP-173 v1+ addresses use bech32, not bech32m: superseded by BIP-350, refused', () => {
    const v1plus = (BIP173.valid_segwit_addresses as { string: string; scriptPubKey: string }[]).filter(
      (v) => !v.scriptPubKey.startsWith('00'),
    );
    assert.ok(v1plus.length > 0);
    for (const v of v1plus) {
      const network = NETWORK_OF_HRP[v.string.toLowerCase().split('1')[0]!] ?? 'bitcoin';
      assert.throws(
        () => scriptOfAddress(v.string, network, 'a'),
        (e: unknown) => isWardenError(e, 'INVALID_ADDRESS'),
      );
    }
  });
});
