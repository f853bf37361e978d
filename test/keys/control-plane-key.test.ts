/**
 * The control-plane MAC runs in OpenSSL (node:crypto); noble's HMAC-SHA256 is the independent
 * check: RFC 4231's test cases through both, then generated keys and messages of every length
 * up to a few blocks, and a tag is refused once any byte of message or tag changes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { controlPlaneMac } from '../../src/keys/control-plane-key.ts';

// RFC 4231 section 4, HMAC-SHA-256 of test cases 1, 2, 4 and 6 (key, data, tag, all hex).
const RFC_4231: [string, string, string][] = [
  ['0b'.repeat(20), '4869205468657265', 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
  [
    '4a656665',
    '7768617420646f2079612077616e7420666f72206e6f7468696e673f',
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  ],
  [
    '0102030405060708090a0b0c0d0e0f10111213141516171819',
    'cd'.repeat(50),
    '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
  ],
  [
    'aa'.repeat(131),
    '54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374',
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  ],
];

test('RFC 4231 HMAC-SHA-256 vectors, through OpenSSL (the MAC) and noble (the check)', () => {
  for (const [key, data, tag] of RFC_4231) {
    const mac = controlPlaneMac(() => hexToBytes(key));
    assert.equal(bytesToHex(mac.mac(hexToBytes(data))), tag);
    assert.equal(bytesToHex(hmac(sha256, hexToBytes(key), hexToBytes(data))), tag);
  }
});

test('generated keys and messages: the same tags as noble; any changed byte is refused', () => {
  for (let length = 0; length <= 200; length++) {
    const key = new Uint8Array(randomBytes(32));
    const message = new Uint8Array(randomBytes(length));
    const mac = controlPlaneMac(() => key);
    const tag = mac.mac(message);
    assert.deepEqual(tag, hmac(sha256, key, message));
    assert.equal(mac.verify(message, tag), true);
    const badTag = tag.slice();
    badTag[length % 32]! ^= 1;
    assert.equal(mac.verify(message, badTag), false);
    if (length > 0) {
      const badMessage = message.slice();
      badMessage[length - 1]! ^= 0x80;
      assert.equal(mac.verify(badMessage, tag), false);
    }
  }
});

test('a sealed vault (no key) refuses with VAULT_SEALED', () => {
  const mac = controlPlaneMac(() => null);
  assert.throws(() => mac.mac(new Uint8Array(1)), { code: 'VAULT_SEALED' });
});
