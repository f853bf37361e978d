import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { getPublicKey, nip19 } from 'nostr-tools';
import { privateKeyToAddress } from 'viem/accounts';
import { checksummedAddress, evmAddressFromNode, nostrPublic } from '../../src/keys/derive.ts';

/** Valid secp256k1 secret keys (fast-check only for the choice; every key is checked by noble). */
const secretKeys = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((k) => secp256k1.utils.isValidSecretKey(k));

test('EVM addresses (EIP-55 checksummed) match viem for any key', () => {
  fc.assert(
    fc.property(secretKeys, (sk) => {
      const node = new HDKey({ privateKey: sk });
      assert.equal(evmAddressFromNode(node), privateKeyToAddress(`0x${bytesToHex(sk)}`));
    }),
    { numRuns: 300 },
  );
});

test("Nostr public keys and npubs match nostr-tools' for any key", () => {
  fc.assert(
    fc.property(secretKeys, (sk) => {
      const pubkey = getPublicKey(sk);
      assert.deepEqual(nostrPublic(sk), { pubkey, npub: nip19.npubEncode(pubkey) });
    }),
    { numRuns: 300 },
  );
});

test('the EIP-55 examples from the EIP', () => {
  // EIP-55's own test cases (all caps, all lower, mixed): the checksum depends only on the bytes.
  for (const address of [
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0xde709f2102306220921060314715629080e2fb77',
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
  ]) {
    assert.equal(checksummedAddress(hexToBytes(address.slice(2).toLowerCase())), address);
  }
});
