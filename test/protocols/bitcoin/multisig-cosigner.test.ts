/**
 * Cosigner keys as an operator types them (XPUB@FINGERPRINT/PATH), read hostilely, and the 2-of-3
 * wallet built from them: every refusal with its stable code and reason. The descriptor checksum
 * is replayed against BIP-380's vector.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hex } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { descriptorChecksum } from '../../../src/core/descriptor.ts';
import { isWardenError } from '../../../src/core/errors.ts';
import { parseCosigner } from '../../../src/protocols/bitcoin/multisig/cosigner.ts';
import { buildWallet, walletDescriptor } from '../../../src/protocols/bitcoin/multisig/wallet.ts';
import { VPRV, VPUB, withVersion } from '../../helpers/electrum.ts';

const TEST = { private: 0x04358394, public: 0x043587cf };
const MAIN = { private: 0x0488ade4, public: 0x0488b21e };
const PATH = "m/48'/1'/0'/2'";
const root = (fill: number, versions = TEST) => HDKey.fromMasterSeed(new Uint8Array(32).fill(fill), versions);
const fp = (r: HDKey) => r.fingerprint.toString(16).padStart(8, '0');
const B = root(1);
const C = root(2);
const account = (r: HDKey) => r.derive(PATH);
const spec = (r: HDKey, xkey = account(r).publicExtendedKey, path = '48h/1h/0h/2h') =>
  `${xkey}@${fp(r)}/${path}`;

function refusal(f: () => unknown): { code: string; reason: unknown } {
  try {
    f();
  } catch (err) {
    assert.ok(isWardenError(err), String(err));
    return { code: err.code, reason: err.details.reason };
  }
  assert.fail('accepted');
}

test('BIP-380: the descriptor checksum of the specification', () => {
  const vectors = JSON.parse(readFileSync(new URL('./vectors/bip380.json', import.meta.url), 'utf8'));
  for (const v of vectors.bip380_checksum) assert.equal(descriptorChecksum(v.descriptor), v.checksum);
});

test('a tpub and its SLIP-132 Vpub are the same cosigner; the path may be written with h or apostrophes', () => {
  const plain = parseCosigner(spec(B), 'regtest', 'cosigner[0]');
  const slip = parseCosigner(
    spec(B, withVersion(account(B).publicExtendedKey, VPUB), "48'/1'/0'/2'"),
    'regtest',
    'c',
  );
  assert.deepEqual(slip, plain);
  assert.equal(plain.xpub, account(B).publicExtendedKey);
  assert.equal(plain.fingerprint, fp(B));
  assert.equal(plain.publicKey, hex.encode(account(B).publicKey!));
});

test('hostile cosigner keys are refused, each with its reason', () => {
  const cases: [string, string][] = [
    [spec(B, account(B).privateExtendedKey), 'private_key'],
    [spec(B, withVersion(account(B).privateExtendedKey, VPRV)), 'private_key'],
    // A mainnet key for a regtest identity.
    [spec(B, root(1, MAIN).derive(PATH).publicExtendedKey), 'other_network'],
    // vpub: SLIP-132 P2WPKH, another wallet's key.
    [spec(B, withVersion(account(B).publicExtendedKey, 0x045f1cf6)), 'script_type'],
    [spec(B, account(B).publicExtendedKey, '48h/1h/0h'), 'depth'],
    [spec(B, account(B).publicExtendedKey, '48h/1h/0h/3h'), 'child_number'],
    [spec(B, B.derive("m/48'").publicExtendedKey, '48h').replace(fp(B), 'deadbeef'), 'fingerprint'],
    [`${account(B).publicExtendedKey.slice(0, -1)}x@${fp(B)}/48h/1h/0h/2h`, 'checksum'],
    [`${account(B).publicExtendedKey}/${fp(B)}`, 'shape'],
    [spec(B, account(B).publicExtendedKey, '48h/1h/0h/99999999999h'), 'path'],
    ['x'.repeat(300), 'shape'],
  ];
  for (const [value, reason] of cases)
    assert.deepEqual(
      refusal(() => parseCosigner(value, 'regtest', 'cosigner[0]')),
      { code: 'INVALID_ARGUMENT', reason },
      value,
    );
});

test('a wallet of the same key twice, or of Warden’s own seed, is refused', () => {
  const warden = root(3);
  const own = { ...parseCosigner(spec(warden), 'regtest', 'own') };
  const b = parseCosigner(spec(B), 'regtest', 'b');
  const c = parseCosigner(spec(C), 'regtest', 'c');
  const sameSeedOtherPath = parseCosigner(
    `${warden.derive("m/84'/1'/0'").publicExtendedKey}@${fp(warden)}/84h/1h/0h`,
    'regtest',
    'x',
  );
  assert.deepEqual(
    refusal(() => buildWallet('w', 'regtest', [b, b], own)),
    { code: 'INVALID_ARGUMENT', reason: 'duplicate' },
  );
  assert.deepEqual(
    refusal(() => buildWallet('w', 'regtest', [b, own], own)),
    { code: 'INVALID_ARGUMENT', reason: 'own_key' },
  );
  assert.deepEqual(
    refusal(() => buildWallet('w', 'regtest', [sameSeedOtherPath, c], own)),
    {
      code: 'INVALID_ARGUMENT',
      reason: 'own_key',
    },
  );
  assert.deepEqual(
    refusal(() => buildWallet('w', 'regtest', [b], own)),
    { code: 'INVALID_ARGUMENT', reason: 'count' },
  );
  const wallet = buildWallet('w', 'regtest', [b, c], own);
  const descriptor = walletDescriptor(wallet, 0);
  const [body, checksum] = descriptor.split('#') as [string, string];
  assert.equal(checksum, descriptorChecksum(body));
  assert.equal(
    body,
    `wsh(sortedmulti(2,[${fp(B)}/48h/1h/0h/2h]${account(B).publicExtendedKey}/0/*,[${fp(warden)}/48h/1h/0h/2h]${account(warden).publicExtendedKey}/0/*,[${fp(C)}/48h/1h/0h/2h]${account(C).publicExtendedKey}/0/*))`,
  );
});
