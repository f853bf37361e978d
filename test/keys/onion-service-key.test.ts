import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base32, base64 } from '@scure/base';
import { deriveOnionServiceKey, onionServiceId } from '../../src/keys/onion-service-key.ts';

const DETAILS = new Uint8Array(32).fill(7);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('the onion key: one per vault, the same at every derivation, Tor’s expanded form in base64', () => {
  const a = deriveOnionServiceKey(DETAILS, 'vault-a');
  assert.deepEqual(deriveOnionServiceKey(DETAILS, 'vault-a'), a);
  assert.notEqual(deriveOnionServiceKey(DETAILS, 'vault-b').serviceId, a.serviceId);
  assert.notEqual(deriveOnionServiceKey(new Uint8Array(32).fill(8), 'vault-a').serviceId, a.serviceId);
  const blob = text(a.addOnionKey);
  assert.match(blob, /^ED25519-V3:[A-Za-z0-9+/]{86}==$/);
  const expanded = base64.decode(blob.slice('ED25519-V3:'.length));
  assert.equal(expanded.length, 64);
  // RFC 8032 5.1.5: the clamped head (the scalar, little-endian), then the prefix.
  const head = expanded.slice(0, 32);
  assert.equal(head[0]! & 7, 0);
  assert.equal(head[31]! & 0xc0, 0x40);
  // The service id names the public key of that scalar.
  const scalar = ed25519.Point.Fn.create(BigInt(`0x${Buffer.from(head).reverse().toString('hex')}`));
  const publicKey = ed25519.Point.BASE.multiply(scalar).toBytes();
  assert.equal(onionServiceId(publicKey), a.serviceId);
});

test('the onion address: 56 base32 characters ending in the version (rend-spec-v3 6)', () => {
  const id = deriveOnionServiceKey(DETAILS, 'vault-a').serviceId;
  assert.match(id, /^[a-z2-7]{55}d$/, 'the version byte 0x03 ends every v3 address in "d"');
  const raw = base32.decode(id.toUpperCase());
  assert.equal(raw.length, 35);
  assert.equal(raw[34], 3);
});
